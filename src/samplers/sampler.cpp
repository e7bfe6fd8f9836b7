#include "samplers/sampler.h"

#include <stdexcept>

#include "samplers/ancestral.h"
#include "samplers/ddim.h"
#include "samplers/langevin.h"
#include "samplers/respacing.h"

namespace ddpm {

std::vector<std::string> sampler_kinds() { return {"ancestral", "ddim", "langevin"}; }

VarianceKind resolved_variance(const SamplerSpec& spec, int64_t T) {
  if (spec.variance) return *spec.variance;
  const bool full = spec.steps <= 0 || spec.steps >= T;
  return full ? VarianceKind::Beta : VarianceKind::Posterior;
}

int64_t sampler_evaluations(const SamplerSpec& spec, int64_t T) {
  const int64_t levels = spec.steps <= 0 ? T : std::min(spec.steps, T);
  return spec.kind == "langevin" ? levels * spec.langevin_steps_per_level + (spec.langevin_denoise ? 1 : 0) : levels;
}

torch::Tensor run_sampler(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                          const SamplerSpec& spec, const StepCallback& on_step) {
  const int64_t T = schedule.T;
  if (spec.steps < 0 || spec.steps > T)
    throw std::invalid_argument(fmt::format("--steps must be between 1 and T = {}, got {}", T, spec.steps));
  const int64_t K = spec.steps == 0 ? T : spec.steps;
  const auto timesteps = spaced_timesteps(T, K, spec.spacing);
  if (spec.kind == "ancestral") {
    AncestralOptions options;
    options.step.variance = resolved_variance(spec, T);
    options.step.clip_x0 = spec.clip_x0;
    if (K == T) return ancestral_sample(schedule, model, std::move(x_T), gen, options, on_step);
    auto respaced = respace(schedule, timesteps);  // β re-derived for the subsequence
    options.model_timesteps = respaced.model_timesteps;
    return ancestral_sample(respaced.schedule, model, std::move(x_T), gen, options, on_step);
  }
  if (spec.kind == "ddim") {
    DDIMOptions options;
    options.eta = spec.eta;
    options.clip_x0 = spec.clip_x0;
    return ddim_sample(schedule, timesteps, model, std::move(x_T), gen, options, on_step);
  }
  if (spec.kind == "langevin") {
    LangevinOptions options;
    options.epsilon = spec.langevin_epsilon;
    options.snr = spec.langevin_snr;
    options.steps_per_level = spec.langevin_steps_per_level;
    options.levels = timesteps;
    options.final_denoise = spec.langevin_denoise;
    options.clip_x0 = spec.clip_x0;
    return langevin_sample(schedule, model, std::move(x_T), gen, options, on_step);
  }
  throw std::invalid_argument(fmt::format("unknown sampler '{}' (choose ancestral, ddim or langevin)", spec.kind));
}

}  // namespace ddpm
