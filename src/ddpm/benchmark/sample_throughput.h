// Sampling throughput: batched network calls per second of ancestral sampling (Algorithm 2, respaced) at a
// batch size, through the samplers' own code (run_sampler with the network as its NoisePredictor).
#pragma once

#include <c10/core/Device.h>

#include <cstdint>

#include "ddpm/benchmark/op_profile.h"
#include "ddpm/models/model_config.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

// A fresh network (seed 0; the weights do not change the cost) sampling `batch` images at once. One run of
// `calls_per_repeat` steps first as the warm-up, whose samples must be finite (else throws); then the best
// of `repeats` timed runs. Returns batched calls per second (one call = one step of the whole batch, i.e.
// `batch` network evaluations). With `profile`, one more run goes under the profiler (times per call).
double sampling_calls_per_second(const ModelConfig& model, int64_t batch, const c10::Device& device,
                                 Precision precision, int repeats, int64_t calls_per_repeat,
                                 std::vector<OpTime>* profile = nullptr);

}  // namespace ddpm
