// Forward processes: DDPM's variance-preserving chain and the seed's variance-exploding random walk.
#include "ddpm/core/forward_process.h"

namespace ddpm {

DiagonalGaussian q_marginal(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& t) {
  auto mean = extract(s.sqrt_alphas_cumprod, t, x0) * x0;
  auto variance = extract(1.0 - s.alphas_cumprod, t, x0);
  auto log_variance = extract((1.0 - s.alphas_cumprod).log(), t, x0);
  return {mean, variance, log_variance};
}

torch::Tensor q_sample(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& noise) {
  TORCH_CHECK(noise.sizes() == x0.sizes(), "noise shape ", noise.sizes(), " != x0 shape ", x0.sizes());
  return extract(s.sqrt_alphas_cumprod, t, x0) * x0 + extract(s.sqrt_one_minus_alphas_cumprod, t, x0) * noise;
}

torch::Tensor q_step(const Schedule& s, const torch::Tensor& x_prev, const torch::Tensor& t,
                     const torch::Tensor& noise) {
  TORCH_CHECK(noise.sizes() == x_prev.sizes(), "noise shape ", noise.sizes(), " != x shape ", x_prev.sizes());
  return extract(s.alphas.sqrt(), t, x_prev) * x_prev + extract(s.betas.sqrt(), t, x_prev) * noise;
}

torch::Tensor random_walk_step(const torch::Tensor& x_prev, double sigma, const torch::Tensor& noise) {
  return x_prev + sigma * noise;
}

torch::Tensor random_walk_covariance(const torch::Tensor& data_covariance, int64_t steps, double sigma) {
  TORCH_CHECK(data_covariance.dim() == 2 && data_covariance.size(0) == data_covariance.size(1),
              "data covariance must be square, got ", data_covariance.sizes());
  // Cov(x_T) = Σ_{x_0} + Σ_t Cov(σ ε_t) = Σ_{x_0} + T σ² I (independent increments).
  auto eye = torch::eye(data_covariance.size(0), data_covariance.options());
  return data_covariance + static_cast<double>(steps) * sigma * sigma * eye;
}

}  // namespace ddpm
