// Conditioning a Gaussian mixture on some of its coordinates (the partitioned-Gaussian formulas, per component).
#include <stdexcept>

#include "ddpm/analytic/gaussian_mixture.h"

namespace ddpm {

GaussianMixture condition_mixture(const GaussianMixture& mixture, const torch::Tensor& observed, const torch::Tensor& values) {
  const int64_t d = mixture.dim();
  if (observed.dim() != 1 || observed.size(0) != d || values.dim() != 1 || values.size(0) != d)
    throw std::invalid_argument("condition_mixture: the observed mask and the values need one entry per coordinate");
  const auto mask = observed.to(torch::kBool);
  const auto o = mask.nonzero().flatten(), u = mask.logical_not().nonzero().flatten();
  if (o.numel() == 0 || u.numel() == 0)
    throw std::invalid_argument("condition_mixture: observe some coordinates, not none or all");
  const auto& mu = mixture.means;
  const auto& cov = mixture.covariances;
  const auto mu_o = mu.index_select(1, o), mu_u = mu.index_select(1, u);
  const auto cov_oo = cov.index_select(1, o).index_select(2, o), cov_uo = cov.index_select(1, u).index_select(2, o);
  const auto cov_uu = cov.index_select(1, u).index_select(2, u);
  const auto x_o = values.to(torch::kFloat64).index_select(0, o);
  // Σ_uo Σ_oo⁻¹, per component: solve Σ_oo G = Σ_ou.
  const auto gain = torch::linalg_solve(cov_oo, cov_uo.transpose(1, 2)).transpose(1, 2);  // [K, |u|, |o|]
  const auto residual = (x_o.unsqueeze(0) - mu_o).unsqueeze(2);                            // [K, |o|, 1]
  GaussianMixture conditional;
  conditional.means = mu_u + gain.matmul(residual).squeeze(2);
  conditional.covariances = cov_uu - gain.matmul(cov_uo.transpose(1, 2));
  conditional.covariances = 0.5 * (conditional.covariances + conditional.covariances.transpose(1, 2));
  GaussianMixture marginal{mixture.weights, mu_o, cov_oo};
  const auto log_w = component_log_joint(marginal, x_o.unsqueeze(0), torch::ones({1}, torch::kFloat64))[0];
  const auto w = torch::softmax(log_w, 0).contiguous();
  conditional.weights.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
  return conditional;
}

}  // namespace ddpm
