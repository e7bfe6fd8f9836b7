// One entry point for every sampler, as the CLI and the trainer choose them by name:
// ancestral (Algorithm 2, optionally respaced), ddim (η), langevin (annealed Langevin dynamics).
#pragma once

#include <ATen/core/Generator.h>

#include <optional>
#include <string>
#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/reverse_process.h"

namespace ddpm {

struct SamplerSpec {
  std::string kind = "ancestral";     // ancestral | ddim | langevin
  int64_t steps = 0;                  // network evaluations / noise levels; 0 = all T
  std::optional<std::string> spacing;  // leading | trailing | linspace, when steps < T; unset: the model's, else leading
  // Default: β_t for all T steps (Ho et al.'s CIFAR-10 FID 3.17), β̃_t with fewer steps (β_t collapses there).
  std::optional<VarianceKind> variance;
  // Clip x̂_0 to [-1, 1]. Unset: not here; generate() decides by the model (images are clipped).
  std::optional<bool> clip_x0;
  double eta = 0.0;                   // ddim
  // ddim with clip_x0: ε̂ re-derived from the clipped x̂_0 (samplers/ddim.h). Unset: the model's, else true.
  std::optional<bool> ddim_clipped_eps;
  double langevin_epsilon = 2e-5;     // langevin: step size at the least noisy level (samplers/langevin.h)
  double langevin_snr = 0.0;          // langevin: > 0 sets the step sizes from this signal-to-noise ratio
  int64_t langevin_steps_per_level = 10;
  bool langevin_denoise = true;       // langevin: a final denoising step (one more evaluation)
};

// The sampler settings a model came with (an imported diffusers scheduler's variance_type, clip_sample and
// timestep_spacing, and diffusers' DDIM keeping the network's ε̂ after clipping): inference's model_sampler()
// gives them to a SamplerSpec's unset fields.
struct SamplingDefaults {
  std::optional<VarianceKind> variance;
  std::optional<bool> clip_x0;
  std::optional<std::string> spacing;
  std::optional<bool> ddim_clipped_eps;
  bool empty() const { return !variance && !clip_x0 && !spacing && !ddim_clipped_eps; }
};

// The sampler kinds (samplers/sampler.cpp's table), and one help line for each.
std::vector<std::string> sampler_kinds();
std::vector<std::string> sampler_help();

// The variance a spec resolves to for a schedule of T steps.
VarianceKind resolved_variance(const SamplerSpec& spec, int64_t T);

// Network evaluations the spec costs per sample (one sample through the network = one evaluation); also
// the batched calls it makes on any batch.
int64_t sampler_evaluations(const SamplerSpec& spec, int64_t T);

// The ascending training steps the spec samples on: K = spec.steps of them (0: all T), spaced by spec.spacing.
std::vector<int64_t> sampler_timesteps(const SamplerSpec& spec, int64_t T);

torch::Tensor run_sampler(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                          const SamplerSpec& spec, const StepCallback& on_step = {});

// The same chain on an explicit ascending subsequence of the training steps, starting from x at the noise
// level of timesteps.back(), which need not be the last step: editing (SDEdit) starts part-way down.
torch::Tensor run_sampler_on(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x, at::Generator& gen,
                             const SamplerSpec& spec, const std::vector<int64_t>& timesteps,
                             const StepCallback& on_step = {});

}  // namespace ddpm
