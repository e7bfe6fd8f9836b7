// Training progress for people: a live status line on a terminal (plain periodic lines otherwise).
// (For scripts: RUN/metrics.jsonl, training/metrics_log.h.)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

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

}  // namespace ddpm
