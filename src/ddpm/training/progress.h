// Training progress for people: the progress line (io/progress_line.h) with the moving average of the
// loss and the images/s. (For scripts: RUN/metrics.jsonl, training/metrics_log.h.)
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "ddpm/io/progress_line.h"

namespace ddpm {

// The loss shown while training: one batch's L_simple is noisy (t is drawn per example), so the line shows
// an exponential moving average over ~50 steps. It is part of a run's state (checkpointed), so a resumed
// run shows the same number the uninterrupted run would have.
struct LossAverage {
  static constexpr double kWeight = 0.02;  // of the newest step
  double value = std::nan("");             // NaN until the first finite loss
  void add(double loss) {
    if (std::isfinite(loss)) value = std::isfinite(value) ? (1.0 - kWeight) * value + kWeight * loss : loss;
  }
};

class TrainProgress {
 public:
  TrainProgress(int64_t start_step, int64_t total_steps, bool live);
  // Called every step; prints when due. `images` is the number of examples in the step; `skipped` counts
  // the run's skipped (non-finite) steps, shown when there are any. When this step was skipped the line
  // says so instead of repeating the last finite average.
  void step(int64_t step, const LossAverage& loss, bool step_skipped, int64_t images, int64_t skipped);
  // A message on its own line (the live line is redrawn after it).
  void note(const std::string& message) { line_.note(message); }
  void finish() { line_.finish(); }
  double images_per_second() const { return rate_; }

 private:
  ProgressLine line_;
  int64_t images_since_ = 0;
  double rate_ = 0.0;
  std::chrono::steady_clock::time_point window_start_;
};

}  // namespace ddpm
