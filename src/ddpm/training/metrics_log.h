// RUN/metrics.jsonl: one JSON object per logged training step, for scripts and plots.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

#include "ddpm/io/atomic_file.h"
#include "ddpm/training/step_stats.h"

namespace ddpm {

// Appends to RUN/metrics.jsonl. On resume, lines beyond the resumed step are dropped first (the file is
// rewritten atomically), so the file describes exactly one history. A line that cannot be written (a full
// disk) throws: training does not go on without its log.
// Every record also carries the run's clocks: "wall_s", the seconds of training so far, and "cpu_s", the CPU
// seconds of the process writing the log (all its threads: the steps, data, sample grids, evaluations), both
// summed over the run's resumes from the last record each one kept. That is what lets runs be compared at
// equal compute (`ddpm plot --x cpu`). A log resumed from records without clocks (an older ddpm) gets none.
class MetricsLog {
 public:
  MetricsLog(const std::string& run_dir, int64_t resumed_step);
  void write(nlohmann::json record);

 private:
  std::unique_ptr<AppendFile> out_;
  bool clocks_ = true;
  double wall_before_ = 0.0, cpu_before_ = 0.0;  // the clocks of the records kept on resume
  std::chrono::steady_clock::time_point wall_start_;
  std::clock_t cpu_start_ = 0;
};

// The record of one step; values that are not finite (a skipped step's loss) are null.
nlohmann::json metrics_record(const StepStats& stats, double images_per_second, int64_t skipped_total);

}  // namespace ddpm
