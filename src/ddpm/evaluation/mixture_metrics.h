// How well a point set reproduces a known Gaussian mixture (the lecture notes' mixture experiment):
//  - per-mode proportions, each point counted for its most responsible component;
//  - the low-density ("between modes") fraction: points where q(x) < τ, with
//    τ = min_k w_k N(x_k; μ_k, Σ_k) at a point x_k on component k's r-sigma contour (Mahalanobis radius r,
//    default 3). Any point inside some component's r-sigma ellipse has q ≥ τ, so a true sample lands
//    below τ with probability at most P(χ²_d > r²) (1.1 % for d = 2, r = 3): samples smeared between the
//    modes raise it;
//  - the mean log-likelihood under the true density.
#pragma once

#include <torch/types.h>

#include <vector>

#include "ddpm/analytic/gaussian_mixture.h"

namespace ddpm {

std::vector<double> mode_proportions(const GaussianMixture& mixture, const torch::Tensor& points);

// log τ of the definition above.
double low_density_log_threshold(const GaussianMixture& mixture, double radius = 3.0);
double between_modes_fraction(const GaussianMixture& mixture, const torch::Tensor& points, double radius = 3.0);

double mean_log_likelihood(const GaussianMixture& mixture, const torch::Tensor& points);

}  // namespace ddpm
