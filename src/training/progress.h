// Training progress for people and for scripts: a live status line on a terminal (plain periodic lines
// otherwise), and RUN/metrics.jsonl with one JSON object per logged step.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "io/atomic_file.h"

namespace ddpm {

class TrainProgress {
 public:
  TrainProgress(int64_t start_step, int64_t total_steps, bool live);
  // Called every step; prints when due. `images` is the number of examples in the step.
  void step(int64_t step, double loss, int64_t images);
  // A message on its own line (the live line is redrawn after it).
  void note(const std::string& message);
  void finish();
  double images_per_second() const { return rate_; }

 private:
  int64_t start_, total_, images_since_ = 0;
  bool live_;
  double rate_ = 0.0, loss_ema_ = 0.0;
  bool have_loss_ = false;
  std::chrono::steady_clock::time_point begin_, last_print_, window_start_;
};

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

}  // namespace ddpm
