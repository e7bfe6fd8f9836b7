// The picture a run draws of its progress: a 6×6 grid of samples from the EMA network (a class-conditional
// one: a row of 6 per class), from the same noise at every step (so grids of one run are comparable),
// written to RUN/samples/step-XXXXXXXX.png.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/core/schedule.h"
#include "ddpm/models/model_config.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

// Samples `net` (a network of images, as `model` describes) with `steps` respaced ancestral steps (at
// most T). The noise comes from its own stream of `run_seed`, independent of training's draws. Returns the
// path written.
std::string write_sample_grid(const std::string& run_dir, int64_t step, NoiseNetImpl& net, const ModelConfig& model,
                              const Schedule& schedule, uint64_t run_seed, int64_t steps, const c10::Device& device,
                              Precision precision);

}  // namespace ddpm
