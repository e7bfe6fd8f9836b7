#include "training/progress.h"

#include <cstdio>

namespace ddpm {
namespace {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<int64_t>(seconds);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}m{:02d}s", s / 60, s % 60);
}

}  // namespace

TrainProgress::TrainProgress(int64_t start_step, int64_t total_steps, bool live)
    : start_(start_step), total_(total_steps), live_(live) {
  begin_ = last_print_ = window_start_ = std::chrono::steady_clock::now();
}

void TrainProgress::step(int64_t step, double loss, int64_t images) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  images_since_ += images;
  if (std::isfinite(loss)) {
    loss_ema_ = have_loss_ ? 0.98 * loss_ema_ + 0.02 * loss : loss;
    have_loss_ = true;
  }
  const double window = duration<double>(now - window_start_).count();
  if (window >= 2.0) {
    rate_ = images_since_ / window;
    images_since_ = 0;
    window_start_ = now;
  }
  const double since_print = duration<double>(now - last_print_).count();
  const bool last = step == total_;
  if (!last && since_print < (live_ ? 0.25 : 30.0)) return;
  last_print_ = now;
  const double elapsed = duration<double>(now - begin_).count();
  const double per_step = step > start_ ? elapsed / static_cast<double>(step - start_) : 0.0;
  const double eta = per_step * static_cast<double>(total_ - step);
  const std::string line = fmt::format("step {}/{}  loss {:.4f}  {:.1f} img/s  elapsed {}  eta {}", step, total_,
                                       loss_ema_, rate_, format_duration(elapsed), format_duration(eta));
  if (live_)
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void TrainProgress::note(const std::string& message) {
  std::fprintf(stderr, live_ ? "\r\033[K%s\n" : "%s\n", message.c_str());
  std::fflush(stderr);
}

void TrainProgress::finish() {
  if (live_) std::fprintf(stderr, "\n");
}

}  // namespace ddpm
