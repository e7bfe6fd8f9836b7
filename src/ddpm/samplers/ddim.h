// DDIM (Song, Meng & Ermon 2021, eq. 12): on a subsequence τ of the training steps,
//   x_{τ_{k-1}} = √ᾱ_prev x̂_0 + √(1 - ᾱ_prev - σ_k²) ε̂ + σ_k z,
//   σ_k = η √((1 - ᾱ_prev)/(1 - ᾱ_t)) √(1 - ᾱ_t/ᾱ_prev),
// with x̂_0 from ε̂ by Ho et al. eq. 15. η = 0 is deterministic (a discretised probability-flow ODE);
// η = 1 has the variance of the respaced ancestral sampler with β̃. After τ_1 the chain ends at ᾱ = 1.
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct DDIMOptions {
  double eta = 0.0;      // 0: deterministic
  bool clip_x0 = false;  // clip x̂_0 to [-1, 1] (image data)
  // With clip_x0: ε̂ re-derived from the clipped x̂_0, so that the step stays on the line through x_t and x̂_0
  // (improved/guided-diffusion); false keeps the network's ε̂ (diffusers' use_clipped_model_output = False).
  bool clipped_eps = true;
};

// `timesteps`: ascending 0-based training steps (e.g. spaced_timesteps(T, K, "trailing")).
// The generator is used only when η > 0.
// σ of the step from ᾱ_t to ᾱ_prev (DDIM eq. 16).
double ddim_sigma(double alpha_prod_t, double alpha_prod_prev, double eta);

torch::Tensor ddim_sample(const Schedule& schedule, const std::vector<int64_t>& timesteps, const NoisePredictor& model,
                          torch::Tensor x_T, at::Generator& gen, const DDIMOptions& options = {},
                          const StepCallback& on_step = {});

// DDIM inversion: eq. 12 with η = 0 run the other way (Song et al. 2021 §4.3: the deterministic chain is a
// discretised ODE, so it can be integrated from x_0 towards x_{τ_K}). Each step takes the network at the
// point it starts from, ε̂ = ε_θ(x_{τ_{k-1}}, τ_{k-1}) (the first, from x_0, at τ_1), and moves to the next
// level along it: x_{τ_k} = √ᾱ_{τ_k} x̂_0 + √(1 - ᾱ_{τ_k}) ε̂. ddim_sample with η = 0 on the same
// timesteps maps the result back to x_0 up to the discretisation error, which falls as K grows. No clipping:
// it would make the map non-invertible.
torch::Tensor ddim_invert(const Schedule& schedule, const std::vector<int64_t>& timesteps, const NoisePredictor& model,
                          torch::Tensor x0, const StepCallback& on_step = {});

}  // namespace ddpm
