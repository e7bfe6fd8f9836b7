// Wall-clock timing for benchmarks on shared, noisy machines: the best of several repeats, with the device
// synchronised around each repeat so that asynchronous CUDA work is counted where it runs.
#pragma once

#include <c10/core/Device.h>

#include <functional>

namespace ddpm {

// Waits for the device's queued work (a no-op on the CPU).
void synchronize(const c10::Device& device);

// Runs `work` `iterations` times per repeat, `repeats` times; returns the shortest repeat's seconds per call.
double best_seconds_per_call(const std::function<void()>& work, const c10::Device& device, int repeats, int iterations);

}  // namespace ddpm
