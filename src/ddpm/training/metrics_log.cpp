#include "ddpm/training/metrics_log.h"

#include <fstream>

#include "ddpm/io/json_number.h"
#include "ddpm/io/run_folder.h"

namespace ddpm {

MetricsLog::MetricsLog(const std::string& run_dir, int64_t resumed_step) {
  const auto path = metrics_path(run_dir);
  std::string kept;
  if (resumed_step > 0) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("step") || j["step"].get<int64_t>() > resumed_step) continue;
      kept += line + "\n";
      if (j.contains("wall_s") && j["wall_s"].is_number() && j.contains("cpu_s") && j["cpu_s"].is_number()) {
        wall_before_ = j["wall_s"].get<double>();
        cpu_before_ = j["cpu_s"].get<double>();
      } else {
        clocks_ = false;
      }
    }
  }
  write_file_atomically(path, kept);
  out_ = std::make_unique<AppendFile>(path);
  wall_start_ = std::chrono::steady_clock::now();
  cpu_start_ = std::clock();  // the process's CPU time, all threads (CLOCK_PROCESS_CPUTIME_ID on Linux)
}

void MetricsLog::write(nlohmann::json record) {
  if (clocks_) {
    record["wall_s"] = wall_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
    record["cpu_s"] = cpu_before_ + static_cast<double>(std::clock() - cpu_start_) / CLOCKS_PER_SEC;
  }
  try {
    out_->append(record.dump() + "\n");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{} (training stopped; the last checkpoint is kept)", e.what()));
  }
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
