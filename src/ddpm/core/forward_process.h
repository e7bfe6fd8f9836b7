// The forward (diffusion) processes of the seeds:
//  - DDPM's q(x_t | x_{t-1}) (Ho et al. 2020, eq. 2) and its one-shot marginal q(x_t | x_0) (eq. 4);
//  - the blog seed's random walk x_t = x_{t-1} + ε_t, whose end point is N(μ, Σ_{x_0} + Tσ²I),
//    not N(0, I) — the reason DDPM scales x_{t-1} by √(1 - β_t).
// Timesteps are 0-based indices i = t - 1 (docs/NOTATION.md). Noise is always passed in.
#pragma once

#include "ddpm/core/gaussian.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

// q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I)  (eq. 4). t: int64 [B].
DiagonalGaussian q_marginal(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& t);

// x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε  (eq. 4 reparameterised, as in eq. 9), the draw used by Algorithm 1.
torch::Tensor q_sample(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& noise);

// One Markov step x_t = √(1 - β_t) x_{t-1} + √β_t ε  (eq. 2); t is the index of the step taken.
torch::Tensor q_step(const Schedule& s, const torch::Tensor& x_prev, const torch::Tensor& t,
                     const torch::Tensor& noise);

// The blog seed's random walk: one step x_t = x_{t-1} + σ ε_t.
torch::Tensor random_walk_step(const torch::Tensor& x_prev, double sigma, const torch::Tensor& noise);

// Its closed-form end point after `steps` steps from data with mean μ and covariance Σ_{x_0}:
// N(μ, Σ_{x_0} + steps·σ² I). Returns the covariance given Σ_{x_0} ([d, d]).
torch::Tensor random_walk_covariance(const torch::Tensor& data_covariance, int64_t steps, double sigma);

}  // namespace ddpm
