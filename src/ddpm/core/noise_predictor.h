// What a sampler sees of a model: a callable ε_θ(x_t, t). Networks, the analytic Gaussian and
// Gaussian-mixture noise predictors and test doubles all plug in here, so samplers know nothing of U-Nets.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>

namespace ddpm {

// t: int64 [B], 0-based indices into the model's own (training) schedule. Returns ε̂ shaped like x_t.
using NoisePredictor = std::function<torch::Tensor(const torch::Tensor& x_t, const torch::Tensor& t)>;

// A class-conditional ε(x_t, t, c) (Ho & Salimans 2021): labels int64 [B] in 0..K, where K, the null label,
// asks for the unconditional prediction ε(x_t, t, ∅). core/guidance.h turns one into a NoisePredictor.
using ClassNoisePredictor =
    std::function<torch::Tensor(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels)>;

// Called after each reverse step with the step counter (1..total), the new state and the x_0 prediction
// that produced it — for progress bars and trajectory pictures.
using StepCallback = std::function<void(int64_t step, int64_t total, const torch::Tensor& x, const torch::Tensor& pred_x0)>;

}  // namespace ddpm
