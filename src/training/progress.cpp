#include "training/progress.h"

#include <filesystem>
#include <sstream>
#include <vector>

namespace ddpm {

TrainProgress::TrainProgress(int64_t start_step, int64_t total_steps, bool live)
    : line_("step", total_steps, start_step, "", live), window_start_(std::chrono::steady_clock::now()) {}

void TrainProgress::step(int64_t step, const LossAverage& loss, int64_t images) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  images_since_ += images;
  const double window = duration<double>(now - window_start_).count();
  if (window >= 2.0) {
    rate_ = images_since_ / window;
    images_since_ = 0;
    window_start_ = now;
  }
  line_.update(step, fmt::format("loss (moving avg.) {:.4f}  {:.1f} img/s", loss.value, rate_));
}

MetricsLog::MetricsLog(const std::string& run_dir, int64_t resumed_step) {
  const auto path = std::filesystem::path(run_dir) / "metrics.jsonl";
  std::vector<std::string> kept;
  if (resumed_step > 0) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.contains("step") && j["step"].get<int64_t>() <= resumed_step) kept.push_back(line);
    }
  }
  out_.open(path, std::ios::trunc);
  if (!out_) throw std::runtime_error(fmt::format("cannot write '{}'", path.string()));
  for (const auto& line : kept) out_ << line << "\n";
  out_.flush();
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
}

}  // namespace ddpm
