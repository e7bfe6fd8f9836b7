#include "ddpm/analytic/gaussian_noise_predictor.h"

namespace ddpm {

NoisePredictor gaussian_noise_predictor(const Schedule& schedule, double mean, double stddev) {
  const double var = stddev * stddev;
  return [alphas_cumprod = schedule.alphas_cumprod, mean, var](const torch::Tensor& xt, const torch::Tensor& t) {
    auto abar = extract(alphas_cumprod, t, xt);
    return (1.0 - abar).sqrt() * (xt - abar.sqrt() * mean) / (abar * var + 1.0 - abar);
  };
}

}  // namespace ddpm
