// Mode proportions, the low-density fraction and the log-likelihood under a known mixture.
#include "ddpm/evaluation/mixture_metrics.h"

namespace ddpm {

std::vector<double> mode_proportions(const GaussianMixture& mixture, const torch::Tensor& points) {
  TORCH_CHECK(points.size(0) > 0, "mode proportions of an empty point set");
  auto counts = torch::bincount(assign_components(mixture, points), {}, mixture.components()).to(torch::kFloat64);
  auto p = (counts / static_cast<double>(points.size(0))).contiguous();
  return {p.data_ptr<double>(), p.data_ptr<double>() + p.numel()};
}

double low_density_log_threshold(const GaussianMixture& mixture, double radius) {
  TORCH_CHECK(radius > 0.0, "contour radius must be > 0, got ", radius);
  const double d = static_cast<double>(mixture.dim());
  double lowest = INFINITY;
  for (int64_t k = 0; k < mixture.components(); ++k) {
    const double logdet = torch::logdet(mixture.covariances[k]).item<double>();
    const double log_n = -0.5 * (d * std::log(2.0 * M_PI) + logdet + radius * radius);
    lowest = std::min(lowest, std::log(mixture.weights[k]) + log_n);
  }
  return lowest;
}

double between_modes_fraction(const GaussianMixture& mixture, const torch::Tensor& points, double radius) {
  TORCH_CHECK(points.size(0) > 0, "between-modes fraction of an empty point set");
  auto below = log_density(mixture, points) < low_density_log_threshold(mixture, radius);
  return below.to(torch::kFloat64).mean().item<double>();
}

double mean_log_likelihood(const GaussianMixture& mixture, const torch::Tensor& points) {
  return log_density(mixture, points).mean().item<double>();
}

}  // namespace ddpm
