// Warm-up and decay of the learning rate (see lr_schedule.h).
#include "ddpm/training/lr_schedule.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ddpm {

std::vector<std::string> lr_schedule_kinds() { return {"constant", "cosine", "linear"}; }

double lr_at(const LrSchedule& s, int64_t step) {
  if (s.kind != "constant" && s.kind != "cosine" && s.kind != "linear")
    throw std::invalid_argument(
        fmt::format("unknown learning-rate schedule '{}' (known: {})", s.kind, fmt::join(lr_schedule_kinds(), ", ")));
  if (step < 1) throw std::invalid_argument(fmt::format("learning-rate schedule: step {} is not >= 1", step));
  if (s.warmup > 0 && step <= s.warmup) return s.lr * static_cast<double>(step) / static_cast<double>(s.warmup);
  if (s.kind == "constant") return s.lr;
  const int64_t span = s.decay_end - s.warmup;
  if (span < 1) return s.lr;  // the run ends within the warm-up: nothing to decay
  const double p = std::clamp(static_cast<double>(step - 1 - s.warmup) / static_cast<double>(span), 0.0, 1.0);
  return s.lr * (s.kind == "cosine" ? 0.5 * (1.0 + std::cos(M_PI * p)) : 1.0 - p);
}

}  // namespace ddpm
