// Interpolation through the model: between two noises, or between two inputs by DDIM inversion (samplers/
// ddim.h) of both, spherical interpolation of the latents, and DDIM back (Song et al. 2021 §5.3). Spherical,
// not linear: a straight line between two N(0, I) draws passes through points of far too small a norm for the
// model's x_T (Shoemake 1985's slerp; Song et al. use it for the same reason).
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

// slerp(a, b, w) = sin((1 - w)θ)/sin θ · a + sin(wθ)/sin θ · b, θ the angle between a and b (flattened), for
// each weight in `weights` (float64 [F]); linear where a and b are (nearly) parallel. a, b: one item each, [1, ...];
// returns [F, ...].
torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& weights);

// `frames` evenly spaced weights 0..1 (frames >= 2).
torch::Tensor interpolation_weights(int64_t frames);

// Frames from input a to input b ([1, ...] each): both inverted on `timesteps` (DDIM, η = 0) by `ends_model`
// (a batch of the two), the latents slerped, each frame generated back by DDIM on the same timesteps by
// `frames_model` (a batch of `frames`; clipping x̂_0 when clip_x0). The two are one model, bound to different
// rows where it takes classes. The first and last frames are the inputs' reconstructions.
torch::Tensor interpolate_inputs(const Schedule& schedule, const NoisePredictor& ends_model,
                                 const NoisePredictor& frames_model, const torch::Tensor& a, const torch::Tensor& b,
                                 int64_t frames, const std::vector<int64_t>& timesteps, bool clip_x0, at::Generator& gen);

}  // namespace ddpm
