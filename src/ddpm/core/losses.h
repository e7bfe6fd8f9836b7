// The training loss and the terms of the variational bound (Ho et al. 2020, eq. 3-14):
//  - L_simple, Algorithm 1's unweighted ε-MSE;
//  - the KL between diagonal Gaussians (eq. 8 for equal variances; the general form for L_T);
//  - the discretized Gaussian decoder p_θ(x_0 | x_1) of Ho et al. for 8-bit data (the L_0 term).
// All log-likelihoods and KLs are in nats, elementwise; callers sum over dimensions.
#pragma once

#include <torch/types.h>

#include "ddpm/core/schedule.h"

namespace ddpm {

// Algorithm 1, line 5 (eq. 14): mean over all elements of (ε - ε_θ)².
torch::Tensor l_simple(const torch::Tensor& eps, const torch::Tensor& eps_pred);

// Mean of (ε - ε_θ)² per batch element: [B].
torch::Tensor l_simple_per_example(const torch::Tensor& eps, const torch::Tensor& eps_pred);

// KL(N(μ1, e^{lv1}) || N(μ2, e^{lv2})), elementwise. With equal variances it reduces to
// (μ1 - μ2)² / (2σ²)  (Ho et al. eq. 8).
torch::Tensor normal_kl(const torch::Tensor& mean1, const torch::Tensor& logvar1, const torch::Tensor& mean2,
                        const torch::Tensor& logvar2);

// Standard normal CDF Φ(x), via a tanh approximation accurate to ~1e-4 in the tails, as Ho et al. use.
torch::Tensor approx_standard_normal_cdf(const torch::Tensor& x);

// log p(x | μ, σ) of the discretized Gaussian decoder for data scaled from {0..255} to [-1, 1]:
// each of the 256 values owns a bin of width 2/255; the two extreme bins extend to ±∞.
// `x` must lie in [-1, 1] on the 256-level grid. Elementwise.
torch::Tensor discretized_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& mean,
                                                  const torch::Tensor& log_scale);

// L_T = KL(q(x_T | x_0) || N(0, I)), elementwise, nats. Does not depend on θ.
torch::Tensor prior_kl(const Schedule& s, const torch::Tensor& x0);

}  // namespace ddpm
