// Best-of-repeats timing (see timing.h).
#include "ddpm/benchmark/timing.h"

#include <torch/cuda.h>

#include <chrono>
#include <limits>

namespace ddpm {

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double best_seconds_per_call(const std::function<void()>& work, const c10::Device& device, int repeats, int iterations) {
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeats; ++r) {
    synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) work();
    synchronize(device);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count() / iterations);
  }
  return best;
}

}  // namespace ddpm
