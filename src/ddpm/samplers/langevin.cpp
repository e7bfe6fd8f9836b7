// Annealed Langevin dynamics with the score taken from an ε-predictor.
#include "ddpm/samplers/langevin.h"

#include "ddpm/core/reverse_process.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {

int64_t langevin_evaluations(const LangevinOptions& options, int64_t T) {
  const auto levels = options.levels.empty() ? T : static_cast<int64_t>(options.levels.size());
  return levels * options.steps_per_level + (options.final_denoise ? 1 : 0);
}

torch::Tensor langevin_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x,
                              at::Generator& gen, const LangevinOptions& options, const StepCallback& on_step) {
  TORCH_CHECK(options.epsilon > 0.0 && std::isfinite(options.epsilon), "langevin: epsilon must be > 0, got ",
              options.epsilon);
  TORCH_CHECK(options.snr >= 0.0 && std::isfinite(options.snr), "langevin: snr must be >= 0, got ", options.snr);
  TORCH_CHECK(options.steps_per_level >= 1, "langevin: steps_per_level must be >= 1, got ", options.steps_per_level);
  std::vector<int64_t> levels = options.levels;
  if (levels.empty())
    for (int64_t i = 0; i < schedule.T; ++i) levels.push_back(i);
  check_timesteps(levels, schedule.T, "langevin");
  torch::NoGradGuard no_grad;
  auto abar = schedule.alphas_cumprod.accessor<double, 1>();
  const double sigma_min_sq = 1.0 - abar[levels.front()];
  const int64_t B = x.size(0), L = static_cast<int64_t>(levels.size()), n = options.steps_per_level;
  const int64_t total = langevin_evaluations(options, schedule.T);
  std::vector<int64_t> per_sample(x.dim(), 1);  // α of shape [B, 1, ...] against x
  per_sample[0] = B;
  const auto norm_sq = [&](const torch::Tensor& v) { return v.flatten(1).pow(2).sum(1).view(per_sample); };
  int64_t done = 0;
  for (int64_t k = L - 1; k >= 0; --k) {
    const double sigma_sq = 1.0 - abar[levels[k]];
    auto t = torch::full({B}, levels[k], torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    for (int64_t j = 0; j < n; ++j) {
      auto eps = model(x, t);
      auto pred_x0 = on_step ? predict_x0_from_eps(schedule, x, t, eps) : torch::Tensor();
      auto score = -eps / std::sqrt(sigma_sq);
      auto z = torch::randn(x.sizes(), gen, x.options());
      if (options.snr > 0.0) {
        // The floor keeps a zero score (x at a mode) from giving an infinite step.
        auto alpha = 4.0 * options.snr * options.snr * norm_sq(z) / norm_sq(score).clamp_min(1e-30);
        x = x + 0.5 * alpha * score + alpha.sqrt() * z;
      } else {
        const double alpha = options.epsilon * sigma_sq / sigma_min_sq;  // α_i = ε σ_i² / σ_L²
        x = x + (0.5 * alpha) * score + std::sqrt(alpha) * z;
      }
      if (on_step) on_step(++done, total, x, pred_x0);
    }
  }
  if (!options.final_denoise) return x;
  auto t = torch::full({B}, levels.front(), torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  auto x0 = predict_x0_from_eps(schedule, x, t, model(x, t));
  if (options.clip_x0) x0 = x0.clamp(-1.0, 1.0);
  if (on_step) on_step(++done, total, x0, x0);
  return x0;
}

}  // namespace ddpm
