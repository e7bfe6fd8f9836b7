// SDEdit: the forward process's one-shot marginal, then the chosen sampler on the tail of its steps.
#include "ddpm/editing/img2img.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "ddpm/core/forward_process.h"

namespace ddpm {

std::vector<int64_t> img2img_timesteps(const SamplerSpec& spec, int64_t T, double strength) {
  if (!(strength > 0.0 && strength <= 1.0))
    throw std::invalid_argument(fmt::format("img2img: the strength must be in (0, 1], got {}", strength));
  auto timesteps = sampler_timesteps(spec, T);
  const auto K = static_cast<double>(timesteps.size());
  const auto kept = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(strength * K - 1e-9)));
  timesteps.resize(kept);
  return timesteps;
}

torch::Tensor img2img(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0, double strength,
                      at::Generator& gen, const SamplerSpec& spec, const StepCallback& on_step) {
  const auto timesteps = img2img_timesteps(spec, schedule.T, strength);
  const auto t0 = torch::full({x0.size(0)}, timesteps.back(), torch::TensorOptions().dtype(torch::kLong).device(x0.device()));
  auto x_t0 = q_sample(schedule, x0, t0, torch::randn(x0.sizes(), gen, x0.options()));
  return run_sampler_on(schedule, model, std::move(x_t0), gen, spec, timesteps, on_step);
}

}  // namespace ddpm
