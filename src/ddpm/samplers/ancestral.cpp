// Algorithm 2.
#include "ddpm/samplers/ancestral.h"

namespace ddpm {

torch::Tensor ancestral_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x,
                               at::Generator& gen, const AncestralOptions& options, const StepCallback& on_step) {
  TORCH_CHECK(options.model_timesteps.empty() ||
                  static_cast<int64_t>(options.model_timesteps.size()) == schedule.T,
              "model_timesteps has ", options.model_timesteps.size(), " entries for a schedule of ", schedule.T);
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0);
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  for (int64_t i = schedule.T - 1; i >= 0; --i) {
    auto t = torch::full({B}, i, long_opts);
    auto t_model = options.model_timesteps.empty() ? t : torch::full({B}, options.model_timesteps[i], long_opts);
    auto eps = model(x, t_model);                                   // line 6: ε_θ(x_t, t)
    auto step = p_mean_variance(schedule, x, t, eps, options.step);  // eq. 11 and σ_t²
    auto z = i > 0 ? torch::randn(x.sizes(), gen, x.options()) : torch::zeros_like(x);  // line 5
    x = p_sample_from(step, t, z);                                  // line 4
    if (on_step) on_step(schedule.T - i, schedule.T, x, step.pred_x0);
  }
  return x;
}

}  // namespace ddpm
