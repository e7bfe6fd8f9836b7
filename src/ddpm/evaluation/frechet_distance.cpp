// Fréchet distance between Gaussians via symmetric eigendecompositions in float64.
#include "ddpm/evaluation/frechet_distance.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

namespace ddpm {

FeatureStatistics feature_statistics(const torch::Tensor& features) {
  if (features.dim() != 2 || features.size(0) < 2)
    throw std::invalid_argument(fmt::format("feature statistics need a [n, d] matrix with n >= 2, got [{}]",
                                            fmt::join(features.sizes(), ", ")));
  auto x = features.to(torch::kFloat64);
  FeatureStatistics stats;
  stats.count = x.size(0);
  stats.mean = x.mean(0);
  auto centered = x - stats.mean;
  stats.covariance = centered.t().mm(centered) / static_cast<double>(stats.count - 1);
  return stats;
}

torch::Tensor symmetric_sqrt(const torch::Tensor& a) {
  TORCH_CHECK(a.dim() == 2 && a.size(0) == a.size(1), "symmetric_sqrt needs a square matrix, got ", a.sizes());
  auto sym = a.to(torch::kFloat64);
  sym = 0.5 * (sym + sym.t());  // exact symmetry, so eigh's orthogonal V applies
  auto [eigenvalues, eigenvectors] = torch::linalg_eigh(sym);
  auto root = eigenvalues.clamp_min(0.0).sqrt();
  return (eigenvectors * root).mm(eigenvectors.t());
}

double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b) {
  TORCH_CHECK(a.mean.sizes() == b.mean.sizes(), "feature dimensions differ: ", a.mean.sizes(), " vs ",
              b.mean.sizes());
  auto sqrt_a = symmetric_sqrt(a.covariance);
  auto inner = sqrt_a.mm(b.covariance.to(torch::kFloat64)).mm(sqrt_a);
  inner = 0.5 * (inner + inner.t());
  const double trace_cross = torch::linalg_eigvalsh(inner).clamp_min(0.0).sqrt().sum().item<double>();
  const double mean_term = (a.mean - b.mean).pow(2).sum().item<double>();
  const double d2 = mean_term + a.covariance.trace().item<double>() + b.covariance.trace().item<double>() -
                    2.0 * trace_cross;
  return std::max(0.0, d2);  // d² ≥ 0; only rounding can take it below
}

}  // namespace ddpm
