// Drawing samples from a trained model: noise → sampler → data, with an optional trajectory record and a
// progress callback. The CLI's `ddpm sample`, the demo and evaluation all come through here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ddpm/inference/trained_model.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/samplers/sampler.h"
#include "ddpm/samplers/trajectory.h"

namespace ddpm {

struct GenerateOptions {
  int64_t n = 16;
  uint64_t seed = 0;
  SamplerSpec sampler;
  int64_t batch = 256;  // samples drawn at once (memory bound)
  Precision precision = Precision::fp32;  // of the network's products (runtime/precision.h)
  // A class-conditional model's classes, int64 [n] (ModelConfig::class_label; its null label: no class).
  // Undefined: every sample without a class. An unconditional model takes none.
  torch::Tensor labels;
  double guidance = 0.0;  // classifier-free guidance weight w (core/guidance.h); 0: none
  // The sampler's starting point x_T for every sample, float32 [n, C, H, W] (images) or [n, d] (points);
  // undefined: drawn from the seed. The seed still draws the sampler's own noise (ancestral, Langevin, η > 0).
  torch::Tensor noise;
};

// Throws std::invalid_argument naming `source` unless `noise` can start the sampler for this model: float32,
// finite, shaped [N] + the model's sample shape with N >= 1.
void check_starting_noise(const torch::Tensor& noise, const ModelConfig& model, const std::string& source);

// The fast sampler ddpm measures and shows models with (`ddpm eval`, `--eval-every`, the demo's grid): DDIM with
// η = 0 in 50 steps. Fewer steps cost variety: fashion-classes after 28,523 steps recalled 0.78 at 25 steps,
// 0.82 at 50 and 0.83 at 100 (docs/EVALUATION.md).
inline constexpr int64_t kFastSamplerSteps = 50;
SamplerSpec fast_sampler();

// The sampler as a model runs it, the one place that decides: what the spec leaves unset comes from the
// model's own sampling defaults (TrainedModel::sampling), then a model of images has its x̂_0 clipped to the
// data's range [-1, 1].
SamplerSpec model_sampler(const ModelConfig& model, SamplerSpec spec, const SamplingDefaults& defaults = {});

// Returns n samples ([n, C, H, W] in [-1, 1] for images, [n, d] for points) on the CPU. `trajectory`
// (optional) records the first batch.
torch::Tensor generate(TrainedModel& model, const GenerateOptions& options, TrajectoryRecorder* trajectory = nullptr,
                       const StepCallback& progress = {});

}  // namespace ddpm
