// DDIM (Song, Meng & Ermon 2021, eq. 12): on a subsequence τ of the training steps,
//   x_{τ_{k-1}} = √ᾱ_prev x̂_0 + √(1 - ᾱ_prev - σ_k²) ε̂ + σ_k z,
//   σ_k = η √((1 - ᾱ_prev)/(1 - ᾱ_t)) √(1 - ᾱ_t/ᾱ_prev),
// with x̂_0 from ε̂ by Ho et al. eq. 15. η = 0 is deterministic (a discretised probability-flow ODE);
// η = 1 has the variance of the respaced ancestral sampler with β̃. After τ_1 the chain ends at ᾱ = 1.
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "core/noise_predictor.h"
#include "core/schedule.h"

namespace ddpm {

struct DDIMOptions {
  double eta = 0.0;      // 0: deterministic
  bool clip_x0 = false;  // clip x̂_0 to [-1, 1] (image data) and re-derive ε̂ from it
};

// `timesteps`: ascending 0-based training steps (e.g. spaced_timesteps(T, K, "trailing")).
// The generator is used only when η > 0.
torch::Tensor ddim_sample(const Schedule& schedule, const std::vector<int64_t>& timesteps, const NoisePredictor& model,
                          torch::Tensor x_T, at::Generator& gen, const DDIMOptions& options = {},
                          const StepCallback& on_step = {});

}  // namespace ddpm
