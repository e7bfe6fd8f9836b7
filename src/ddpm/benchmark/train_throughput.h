// Training throughput: images per second of Algorithm 1's full step (forward, L_simple, backward,
// gradient clipping, AdamW step) on synthetic data, through the trainer's own code (compute_gradient).
#pragma once

#include <c10/core/Device.h>

#include <cstdint>

#include "ddpm/benchmark/op_profile.h"
#include "ddpm/models/model_config.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

// A fresh network (seed 0) trained with the default TrainConfig's AdamW settings; one step first as the
// warm-up, which must give a finite loss and gradient norm (else throws); then the best of `repeats`
// timed repeats of `steps_per_repeat` steps. With `profile`, one more step runs under the profiler.
double training_images_per_second(const ModelConfig& model, int64_t batch, const c10::Device& device,
                                  Precision precision, int repeats, int steps_per_repeat = 1,
                                  std::vector<OpTime>* profile = nullptr);

}  // namespace ddpm
