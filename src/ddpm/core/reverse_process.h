// The reverse process: the forward posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 6-7), the
// ε-parameterisation (eq. 15, 11) and one step of p_θ(x_{t-1} | x_t) with a fixed variance (§3.2, Algorithm 2).
// Timesteps are 0-based indices i = t - 1 (docs/NOTATION.md). Noise is always passed in.
#pragma once

#include <string>

#include "ddpm/core/gaussian.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

// The fixed reverse variance Σ_θ(t) = σ_t² I.
enum class VarianceKind {
  Posterior,  // σ_t² = β̃_t (eq. 7, §3.2; Ho et al.'s "fixedsmall")
  Beta,       // σ_t² = β_t (Ho et al.'s "fixedlarge", their CIFAR-10 choice)
};
std::vector<std::string> variance_kinds();                  // their names: "posterior", "beta"
VarianceKind parse_variance_kind(const std::string& name);  // one of variance_kinds()
std::string to_string(VarianceKind kind);

// q(x_{t-1} | x_t, x_0): mean and variance of eq. 7.
DiagonalGaussian q_posterior(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& xt,
                             const torch::Tensor& t);

// The posterior mean alone (eq. 7).
torch::Tensor posterior_mean(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& xt,
                             const torch::Tensor& t);

// x_θ = (x_t - √(1 - ᾱ_t) ε) / √ᾱ_t  (eq. 15; eq. 4 solved for x_0 with the true ε).
torch::Tensor predict_x0_from_eps(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                                  const torch::Tensor& eps);

// ε = (x_t - √ᾱ_t x_0) / √(1 - ᾱ_t), the inverse of eq. 15.
torch::Tensor predict_eps_from_x0(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                                  const torch::Tensor& x0);

// μ_θ = (x_t - (1 - α_t)/√(1 - ᾱ_t) ε) / √α_t  (eq. 11).
torch::Tensor mean_from_eps(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                            const torch::Tensor& eps);

// σ_t² and log σ_t² of the chosen fixed variance, shaped to broadcast against `like`.
// For VarianceKind::Beta the log-variance of step 1 is log β̃_2 (Ho et al.'s code), so that the
// decoder term of the bound is not evaluated with the tiny β_1.
DiagonalGaussian reverse_variance(const Schedule& s, VarianceKind kind, const torch::Tensor& t,
                                  const torch::Tensor& like);

struct ReverseStepOptions {
  VarianceKind variance = VarianceKind::Posterior;
  bool clip_x0 = false;  // clip the predicted x_0 to [-1, 1] and take the mean from eq. 7
  // σ_t² per step index, float64 [T] (e.g. fitted to a network, evaluation/fitted_variance.h); when defined it
  // replaces `variance`.
  torch::Tensor variance_table;
};

// p_θ(x_{t-1} | x_t) given the network's noise prediction. `pred_x0` receives x_θ (eq. 15).
struct ReverseStep {
  DiagonalGaussian dist;
  torch::Tensor pred_x0;
};
ReverseStep p_mean_variance(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                            const torch::Tensor& eps, const ReverseStepOptions& options);

// Draws x_{t-1} = μ_θ + σ_t z (Algorithm 2, line 4), with z = 0 where t is the last step (index 0).
torch::Tensor p_sample_from(const ReverseStep& step, const torch::Tensor& t, const torch::Tensor& z);

}  // namespace ddpm
