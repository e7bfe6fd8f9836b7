// Wall-clock durations for reports ("sampled in 3.2 s"): a monotonic clock, so a changed system time
// cannot make a duration negative.
#pragma once

#include <chrono>

namespace ddpm {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace ddpm
