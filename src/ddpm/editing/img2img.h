// Image-to-image by SDEdit (Meng et al. 2022): noise the input to level t₀ with q(x_{t₀} | x_0) (Ho et al.
// eq. 4) and run any sampler down from there. Strength s = t₀/T: near 0 returns the input, 1 forgets it and
// draws from the model; in between the result keeps the input's layout and takes the model's detail.
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

// The sampler's K steps that an edit of strength s runs: the ⌈s·K⌉ least noisy of them (at least one). The
// input is noised to the last of them. Throws std::invalid_argument unless 0 < s <= 1.
std::vector<int64_t> img2img_timesteps(const SamplerSpec& spec, int64_t T, double strength);

// x0: inputs [B, ...] (one row per result). Returns B results.
torch::Tensor img2img(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0, double strength,
                      at::Generator& gen, const SamplerSpec& spec, const StepCallback& on_step = {});

}  // namespace ddpm
