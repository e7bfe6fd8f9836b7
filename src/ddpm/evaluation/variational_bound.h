// The variational bound of Ho et al. 2020, eq. 5, per example, in bits per dimension:
//   L = L_T + Σ_{t=2..T} L_{t-1} + L_0, with
//   L_T     = KL(q(x_T | x_0) ‖ N(0, I))                       (the prior term; no network),
//   L_{t-1} = KL(q(x_{t-1} | x_t, x_0) ‖ p_θ(x_{t-1} | x_t))    (eq. 6-7 against eq. 1 with a fixed variance),
//   L_0     = -log p_θ(x_0 | x_1), Ho et al.'s discretized Gaussian decoder for 8-bit data.
// Each KL term is evaluated at one draw x_t ~ q(x_t | x_0) (eq. 4), so every term and the total are unbiased
// estimates of the bound, and the bound is ≥ -log p_θ(x_0) (eq. 3). Because the decoder is discrete,
// p_θ is a probability mass function on the 256-level grid, so the bound's mean is ≥ the data's entropy.
//
// Exact mode evaluates all T - 1 KL terms. Stratified mode cuts t = 2..T into about K strata whose sizes grow
// quadratically with t (split further at the report bands' edges, so each band's sum stays unbiased), draws
// one t per stratum and example uniformly, and weights its term by the stratum's size: about K + 1 network
// evaluations per example (bound_evaluations says exactly), not T.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/reverse_process.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct BoundOptions {
  int64_t strata = 0;    // K; 0 or >= T - 1 evaluates every term (exact)
  int64_t bands = 10;    // the KL terms are reported summed over this many equal bands of t
  VarianceKind variance = VarianceKind::Beta;  // Σ_θ(t) of p_θ (core/reverse_process.h)
  torch::Tensor variance_table;  // [T] σ_t², positive (evaluation/fitted_variance.h); replaces `variance` if defined
  bool clip_x0 = false;  // clip x̂_0 to [-1, 1] and take μ_θ from eq. 7 (a valid p_θ as well)
  int64_t batch = 256;   // network evaluations at once
};

// A band of paper timesteps t_first..t_last (inclusive) whose KL terms L_{t-1} are summed.
struct TimestepBand {
  int64_t t_first = 0;
  int64_t t_last = 0;
};

// Per-example terms, bits per dimension, float64 on the CPU.
struct BoundTerms {
  torch::Tensor prior;    // [n]    L_T
  torch::Tensor decoder;  // [n]    L_0
  torch::Tensor bands;    // [n, B] Σ L_{t-1} over each band
  std::vector<TimestepBand> band_ranges;
  int64_t evaluations = 0;  // network evaluations made
  bool exact = false;

  torch::Tensor total() const;  // [n] L
};

// Called after each batch with (evaluations done, evaluations in all).
using BoundProgress = std::function<void(int64_t done, int64_t total)>;

// Network evaluations the bound of n examples costs under `options` for a schedule of T steps.
int64_t bound_evaluations(int64_t n, int64_t T, const BoundOptions& options);

// x0: [n, ...] data in [-1, 1] on the 256-level grid (images: Dataset::batch). Noise and timesteps are
// drawn from `gen`. Throws std::invalid_argument for T < 2 or bad options.
BoundTerms variational_bound(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0,
                             at::Generator& gen, const BoundOptions& options, const BoundProgress& progress = {});

// The mean over examples with its standard error (sample standard deviation / √n; NaN for n < 2).
struct MeanWithError {
  double mean = 0.0;
  double standard_error = 0.0;
};
MeanWithError mean_with_error(const torch::Tensor& per_example);

}  // namespace ddpm
