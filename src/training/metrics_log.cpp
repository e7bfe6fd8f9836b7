#include "training/metrics_log.h"

#include <vector>

#include "io/json_number.h"
#include "io/run_folder.h"

namespace ddpm {

MetricsLog::MetricsLog(const std::string& run_dir, int64_t resumed_step) {
  const auto path = metrics_path(run_dir);
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
  if (!out_) throw std::runtime_error(fmt::format("cannot write '{}'", path));
  for (const auto& line : kept) out_ << line << "\n";
  out_.flush();
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
}

nlohmann::json metrics_record(const StepStats& stats, double images_per_second, int64_t skipped_total) {
  nlohmann::json quarters = nlohmann::json::array();
  for (double q : stats.loss_by_quarter) quarters.push_back(finite_or_null(q));
  return {{"step", stats.step},           {"loss", finite_or_null(stats.loss)},
          {"loss_by_t_quarter", quarters}, {"grad_norm", finite_or_null(stats.grad_norm)},
          {"lr", stats.lr},               {"ema_decay", stats.ema_decay},
          {"images_per_s", images_per_second}, {"skipped", stats.skipped},
          {"skipped_total", skipped_total}};
}

}  // namespace ddpm
