#include "ddpm/training/progress.h"

namespace ddpm {

TrainProgress::TrainProgress(int64_t start_step, int64_t total_steps, bool live)
    : line_("step", total_steps, start_step, "", live), window_start_(std::chrono::steady_clock::now()) {}

void TrainProgress::step(int64_t step, const LossAverage& loss, bool step_skipped, int64_t images, int64_t skipped) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  images_since_ += images;
  const double window = duration<double>(now - window_start_).count();
  if (window >= 2.0) {
    rate_ = images_since_ / window;
    images_since_ = 0;
    window_start_ = now;
  }
  const std::string loss_text = step_skipped ? "non-finite (step skipped)" : fmt::format("{:.4f}", loss.value);
  const std::string skipped_text = skipped > 0 ? fmt::format("  skipped {}", skipped) : "";
  line_.update(step, fmt::format("loss (moving avg.) {}{}  {:.1f} img/s", loss_text, skipped_text, rate_));
}

}  // namespace ddpm
