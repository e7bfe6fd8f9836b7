// Ancestral sampling, Algorithm 2 of Ho et al. 2020: start at x_T ~ N(0, I),
// then for t = T..1 draw x_{t-1} ~ p_θ(x_{t-1} | x_t) with the ε-parameterised mean (eq. 11).
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/reverse_process.h"

namespace ddpm {

struct AncestralOptions {
  ReverseStepOptions step;
  // Model timestep for each index of the sampling schedule; empty means the identity (the usual case).
  // A respaced schedule (fewer steps) maps its index k to the training step τ_k here.
  std::vector<int64_t> model_timesteps;
};

// Runs the whole chain from x_T (the caller draws it, usually N(0, I)) and returns x_0.
torch::Tensor ancestral_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T,
                               at::Generator& gen, const AncestralOptions& options = {},
                               const StepCallback& on_step = {});

}  // namespace ddpm
