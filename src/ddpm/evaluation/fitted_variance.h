// The per-step reverse variances that make a trained network's variational bound tightest.
//
// Against q(x_{t-1} | x_t, x_0) = N(μ̃_t, β̃_t I) (Ho et al. 2020, eq. 7), a fixed-variance step
// p_θ(x_{t-1} | x_t) = N(μ_θ, σ_t² I) costs, in expectation over the data and x_t, the bound term
//   E[L_{t-1}] = d/2 (β̃_t/σ_t² - 1 + log(σ_t²/β̃_t)) + E‖μ̃_t - μ_θ‖² / (2σ_t²),
// which is smallest at σ_t² = β̃_t + E‖μ̃_t - μ_θ‖²/d (set its derivative in σ_t² to zero). μ_θ is eq. 7 at the
// network's x̂_0 (eq. 15, clipped or not as the bound's mean is), so μ̃_t - μ_θ = c_t (x_0 - x̂_0) with
// c_t = √ᾱ_{t-1} β_t / (1 - ᾱ_t), and
//   σ_t² = β̃_t + c_t² e_t,   e_t = E‖x_0 - x̂_0(x_t, t)‖² / d.
// For the ideal network, x̂_0 = E[x_0 | x_t], this is the optimum of Bao et al. 2022a (Analytic-DPM, Theorem 1),
// where e_t = (1 - ᾱ_t)/ᾱ_t · (1 - Γ_t) comes from the mean square of ε_θ; for a network that is not ideal the
// optimum takes its own error instead (Bao et al. 2022b, "Estimating the optimal covariance with imperfect mean",
// whose NPR-DPM learns it per x_t; here it is one number per step), which needs no clipping of Γ_t. β̃_t is the
// floor (an exact x̂_0); Ho et al.'s β_t is the value at e_t = 1 - ᾱ_t, and a trained network's optimum can lie
// on either side of it.
//
// The decoder L_0 = -log p_θ(x_0 | x_1) has no closed form: its σ_1 is the one under which the discretized
// Gaussian gives the same training examples the highest likelihood, found by a one-dimensional search.
// Everything is measured on training examples, so a bound on test data is the bound of a p_θ fixed before the
// test data is seen.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"
#include "ddpm/evaluation/variational_bound.h"

namespace ddpm {

struct VarianceFitOptions {
  int64_t n = 32;       // training examples, the same ones at every step: n · T network evaluations
  bool clip_x0 = true;  // the bound's x̂_0 is clipped to [-1, 1] (BoundOptions::clip_x0)
  int64_t batch = 256;  // network evaluations at once
};

struct FittedVariance {
  torch::Tensor x0_error;  // [T] float64: e_t per step index (index 0 is t = 1)
  torch::Tensor variance;  // [T] float64: σ_t²; index 0 is the decoder's σ_1²
  int64_t evaluations = 0;
};

// x0: [n, ...] training data in [-1, 1] on the 256-level grid (images: Dataset::batch); noise from `gen`.
// Throws std::invalid_argument for T < 2, no examples or bad options. `progress` as the bound's.
FittedVariance fit_reverse_variance(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0,
                                    at::Generator& gen, const VarianceFitOptions& options,
                                    const BoundProgress& progress = {});

}  // namespace ddpm
