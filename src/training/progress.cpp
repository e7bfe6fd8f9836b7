#include "training/progress.h"

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

}  // namespace ddpm
