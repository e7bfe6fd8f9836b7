// DDIM's update, written in the paper's quantities.
#include "ddpm/samplers/ddim.h"

#include "ddpm/core/reverse_process.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {

double ddim_sigma(double alpha_prod_t, double alpha_prod_prev, double eta) {
  return eta * std::sqrt((1.0 - alpha_prod_prev) / (1.0 - alpha_prod_t)) * std::sqrt(1.0 - alpha_prod_t / alpha_prod_prev);
}

torch::Tensor ddim_sample(const Schedule& schedule, const std::vector<int64_t>& timesteps, const NoisePredictor& model,
                          torch::Tensor x, at::Generator& gen, const DDIMOptions& options, const StepCallback& on_step) {
  TORCH_CHECK(!timesteps.empty(), "ddim: the timestep subsequence is empty");
  TORCH_CHECK(options.eta >= 0.0, "ddim: eta must be >= 0, got ", options.eta);
  check_timesteps(timesteps, schedule.T, "ddim");
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0), K = static_cast<int64_t>(timesteps.size());
  auto abar_table = schedule.alphas_cumprod.accessor<double, 1>();
  for (int64_t k = K - 1; k >= 0; --k) {
    auto t = torch::full({B}, timesteps[k], torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    const double alpha_prod_t = abar_table[timesteps[k]];
    const double alpha_prod_prev = k > 0 ? abar_table[timesteps[k - 1]] : 1.0;
    // 1. the network's ε̂ and the x̂_0 it implies (Ho et al. eq. 15)
    auto eps = model(x, t);
    TORCH_CHECK(eps.sizes() == x.sizes(), "noise prediction shape ", eps.sizes(), " != x_t shape ", x.sizes());
    auto pred_x0 = predict_x0_from_eps(schedule, x, t, eps);
    if (options.clip_x0) {
      pred_x0 = pred_x0.clamp(-1.0, 1.0);
      if (options.clipped_eps) eps = predict_eps_from_x0(schedule, x, t, pred_x0);
    }
    // 2. σ_k (DDIM eq. 16), zero for η = 0
    const double beta_prod_prev = 1.0 - alpha_prod_prev;
    const double sigma = ddim_sigma(alpha_prod_t, alpha_prod_prev, options.eta);
    // 3. x_prev = √ᾱ_prev x̂_0 + "direction pointing to x_t" + σ z (DDIM eq. 12)
    const double dir_coef = std::sqrt(std::max(0.0, beta_prod_prev - sigma * sigma));
    x = std::sqrt(alpha_prod_prev) * pred_x0 + dir_coef * eps;
    if (sigma > 0.0) x = x + sigma * torch::randn(x.sizes(), gen, x.options());
    if (on_step) on_step(K - k, K, x, pred_x0);
  }
  return x;
}

torch::Tensor ddim_invert(const Schedule& schedule, const std::vector<int64_t>& timesteps, const NoisePredictor& model,
                          torch::Tensor x, const StepCallback& on_step) {
  TORCH_CHECK(!timesteps.empty(), "ddim inversion: the timestep subsequence is empty");
  check_timesteps(timesteps, schedule.T, "ddim inversion");
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0), K = static_cast<int64_t>(timesteps.size());
  auto abar_table = schedule.alphas_cumprod.accessor<double, 1>();
  double alpha_prod_here = 1.0;  // x_0
  for (int64_t k = 0; k < K; ++k) {
    const int64_t t_here = timesteps[std::max<int64_t>(k - 1, 0)];
    auto t = torch::full({B}, t_here, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    auto eps = model(x, t);
    TORCH_CHECK(eps.sizes() == x.sizes(), "noise prediction shape ", eps.sizes(), " != x_t shape ", x.sizes());
    // x̂_0 at the level x is at (Ho et al. eq. 15 with that level's ᾱ), then DDIM's eq. 12 towards the next.
    auto pred_x0 = (x - std::sqrt(1.0 - alpha_prod_here) * eps) / std::sqrt(alpha_prod_here);
    const double alpha_prod_next = abar_table[timesteps[k]];
    x = std::sqrt(alpha_prod_next) * pred_x0 + std::sqrt(1.0 - alpha_prod_next) * eps;
    alpha_prod_here = alpha_prod_next;
    if (on_step) on_step(k + 1, K, x, pred_x0);
  }
  return x;
}

}  // namespace ddpm
