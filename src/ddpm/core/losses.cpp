// Loss and variational-bound terms.
#include "ddpm/core/losses.h"

#include "ddpm/core/forward_process.h"

namespace ddpm {

torch::Tensor l_simple(const torch::Tensor& eps, const torch::Tensor& eps_pred) {
  TORCH_CHECK(eps.sizes() == eps_pred.sizes(), "prediction shape ", eps_pred.sizes(), " != noise shape ",
              eps.sizes());
  return (eps - eps_pred).pow(2).mean();
}

torch::Tensor l_simple_per_example(const torch::Tensor& eps, const torch::Tensor& eps_pred) {
  TORCH_CHECK(eps.sizes() == eps_pred.sizes(), "prediction shape ", eps_pred.sizes(), " != noise shape ",
              eps.sizes());
  return (eps - eps_pred).pow(2).flatten(1).mean(1);
}

torch::Tensor normal_kl(const torch::Tensor& mean1, const torch::Tensor& logvar1, const torch::Tensor& mean2,
                        const torch::Tensor& logvar2) {
  // KL = ½ [log σ2²/σ1² + (σ1² + (μ1 - μ2)²)/σ2² - 1]
  return 0.5 * (-1.0 + logvar2 - logvar1 + (logvar1 - logvar2).exp() + (mean1 - mean2).pow(2) * (-logvar2).exp());
}

torch::Tensor approx_standard_normal_cdf(const torch::Tensor& x) {
  return 0.5 * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}

torch::Tensor discretized_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& mean,
                                                  const torch::Tensor& log_scale) {
  TORCH_CHECK(x.sizes() == mean.sizes(), "data shape ", x.sizes(), " != mean shape ", mean.sizes());
  const double half_bin = 1.0 / 255.0;
  auto centered = x - mean;
  auto inv_std = (-log_scale).exp();
  auto cdf_plus = approx_standard_normal_cdf(inv_std * (centered + half_bin));
  auto cdf_minus = approx_standard_normal_cdf(inv_std * (centered - half_bin));
  auto log_cdf_plus = cdf_plus.clamp_min(1e-12).log();                   // bin of x = -1: (-∞, -1 + 1/255]
  auto log_one_minus_cdf_minus = (1.0 - cdf_minus).clamp_min(1e-12).log();  // bin of x = +1: [1 - 1/255, ∞)
  auto log_bin = (cdf_plus - cdf_minus).clamp_min(1e-12).log();
  // Thresholds at ±0.999 pick the edge bins exactly for data on the 256-level grid.
  return torch::where(x < -0.999, log_cdf_plus, torch::where(x > 0.999, log_one_minus_cdf_minus, log_bin));
}

torch::Tensor prior_kl(const Schedule& s, const torch::Tensor& x0) {
  auto last = torch::full({x0.size(0)}, s.T - 1, torch::TensorOptions().dtype(torch::kLong));
  auto q = q_marginal(s, x0, last);
  auto zeros = torch::zeros_like(q.mean);
  return normal_kl(q.mean, q.log_variance.expand_as(q.mean), zeros, zeros);
}

}  // namespace ddpm
