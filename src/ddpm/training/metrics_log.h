// RUN/metrics.jsonl: one JSON object per logged training step, for scripts and plots.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "ddpm/io/atomic_file.h"
#include "ddpm/training/step_stats.h"

namespace ddpm {

// Appends to RUN/metrics.jsonl. On resume, lines beyond the resumed step are dropped first (the file is
// rewritten atomically), so the file describes exactly one history. A line that cannot be written (a full
// disk) throws: training does not go on without its log.
class MetricsLog {
 public:
  MetricsLog(const std::string& run_dir, int64_t resumed_step);
  void write(const nlohmann::json& record);

 private:
  std::unique_ptr<AppendFile> out_;
};

// The record of one step; values that are not finite (a skipped step's loss) are null.
nlohmann::json metrics_record(const StepStats& stats, double images_per_second, int64_t skipped_total);

}  // namespace ddpm
