// Annealed Langevin dynamics with the score taken from an ε-predictor.
#include "samplers/langevin.h"

#include "core/reverse_process.h"
#include "samplers/respacing.h"

namespace ddpm {

torch::Tensor langevin_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x,
                              at::Generator& gen, const LangevinOptions& options, const StepCallback& on_step) {
  TORCH_CHECK(options.epsilon > 0.0, "langevin: epsilon must be > 0, got ", options.epsilon);
  TORCH_CHECK(options.steps_per_level >= 1, "langevin: steps_per_level must be >= 1, got ", options.steps_per_level);
  std::vector<int64_t> levels = options.levels;
  if (levels.empty())
    for (int64_t i = 0; i < schedule.T; ++i) levels.push_back(i);
  check_timesteps(levels, schedule.T, "langevin");
  torch::NoGradGuard no_grad;
  auto abar = schedule.alphas_cumprod.accessor<double, 1>();
  const double sigma_min_sq = 1.0 - abar[levels.front()];
  const int64_t B = x.size(0), L = static_cast<int64_t>(levels.size()), n = options.steps_per_level;
  int64_t done = 0;
  for (int64_t k = L - 1; k >= 0; --k) {
    const double sigma_sq = 1.0 - abar[levels[k]];
    const double alpha = options.epsilon * sigma_sq / sigma_min_sq;  // α_i = ε σ_i² / σ_L²
    auto t = torch::full({B}, levels[k], torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    for (int64_t j = 0; j < n; ++j) {
      auto eps = model(x, t);
      auto pred_x0 = on_step ? predict_x0_from_eps(schedule, x, t, eps) : torch::Tensor();
      auto score = -eps / std::sqrt(sigma_sq);
      x = x + (0.5 * alpha) * score + std::sqrt(alpha) * torch::randn(x.sizes(), gen, x.options());
      if (on_step) on_step(++done, L * n, x, pred_x0);
    }
  }
  return x;
}

}  // namespace ddpm
