#include "ddpm/samplers/sampler.h"

#include <stdexcept>

#include "ddpm/io/text.h"
#include "ddpm/samplers/ancestral.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/langevin.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {
namespace {

// What a sampler needs beyond its own options: the K training steps it runs on (ascending).
using SamplerRun = torch::Tensor (*)(const Schedule&, const NoisePredictor&, torch::Tensor x_T, at::Generator&,
                                     const SamplerSpec&, const std::vector<int64_t>& timesteps, const StepCallback&);

struct SamplerKind {
  const char* name;
  SamplerRun run;
  int64_t (*evaluations)(const SamplerSpec&, int64_t levels);  // network evaluations for K = levels steps
  const char* help;
};

torch::Tensor run_ancestral(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                            const SamplerSpec& spec, const std::vector<int64_t>& timesteps, const StepCallback& on_step) {
  AncestralOptions options;
  options.step.variance = resolved_variance(spec, schedule.T);
  options.step.clip_x0 = spec.clip_x0.value_or(false);
  if (static_cast<int64_t>(timesteps.size()) == schedule.T)
    return ancestral_sample(schedule, model, std::move(x_T), gen, options, on_step);
  auto respaced = respace(schedule, timesteps);  // β re-derived for the subsequence
  options.model_timesteps = respaced.model_timesteps;
  return ancestral_sample(respaced.schedule, model, std::move(x_T), gen, options, on_step);
}

torch::Tensor run_ddim(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                       const SamplerSpec& spec, const std::vector<int64_t>& timesteps, const StepCallback& on_step) {
  DDIMOptions options;
  options.eta = spec.eta;
  options.clip_x0 = spec.clip_x0.value_or(false);
  options.clipped_eps = spec.ddim_clipped_eps.value_or(true);
  return ddim_sample(schedule, timesteps, model, std::move(x_T), gen, options, on_step);
}

torch::Tensor run_langevin(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                           const SamplerSpec& spec, const std::vector<int64_t>& timesteps, const StepCallback& on_step) {
  LangevinOptions options;
  options.epsilon = spec.langevin_epsilon;
  options.snr = spec.langevin_snr;
  options.steps_per_level = spec.langevin_steps_per_level;
  options.levels = timesteps;
  options.final_denoise = spec.langevin_denoise;
  options.clip_x0 = spec.clip_x0.value_or(false);
  return langevin_sample(schedule, model, std::move(x_T), gen, options, on_step);
}

int64_t one_per_level(const SamplerSpec&, int64_t levels) { return levels; }

// One row per sampler: adding one is its algorithm (in its own file), a run_* adapter and a row.
const SamplerKind kSamplerKinds[] = {
    {"ancestral", run_ancestral, one_per_level, "ancestral: Algorithm 2 of Ho et al. (respaced with fewer steps than T)"},
    {"ddim", run_ddim, one_per_level, "ddim: DDIM (Song et al. 2021); eta = 0 is deterministic"},
    {"langevin", run_langevin,
     [](const SamplerSpec& s, int64_t levels) { return levels * s.langevin_steps_per_level + (s.langevin_denoise ? 1 : 0); },
     "langevin: annealed Langevin dynamics (Song & Ermon 2019), several steps per noise level, then a denoising step"},
};

const SamplerKind& sampler_kind(const std::string& name) {
  for (const auto& kind : kSamplerKinds)
    if (name == kind.name) return kind;
  throw std::invalid_argument(fmt::format("unknown sampler '{}' (choose {})", name, one_of(sampler_kinds())));
}

}  // namespace

std::vector<std::string> sampler_kinds() { return column(kSamplerKinds, &SamplerKind::name); }

std::vector<std::string> sampler_help() { return column(kSamplerKinds, &SamplerKind::help); }

VarianceKind resolved_variance(const SamplerSpec& spec, int64_t T) {
  if (spec.variance) return *spec.variance;
  const bool full = spec.steps <= 0 || spec.steps >= T;
  return full ? VarianceKind::Beta : VarianceKind::Posterior;
}

int64_t sampler_evaluations(const SamplerSpec& spec, int64_t T) {
  const int64_t levels = spec.steps <= 0 ? T : std::min(spec.steps, T);
  return sampler_kind(spec.kind).evaluations(spec, levels);
}

std::vector<int64_t> sampler_timesteps(const SamplerSpec& spec, int64_t T) {
  if (spec.steps < 0 || spec.steps > T)
    throw std::invalid_argument(fmt::format("sampling steps must be between 1 and T = {}, got {}", T, spec.steps));
  return spaced_timesteps(T, spec.steps == 0 ? T : spec.steps, spec.spacing.value_or("leading"));
}

torch::Tensor run_sampler(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T, at::Generator& gen,
                          const SamplerSpec& spec, const StepCallback& on_step) {
  return run_sampler_on(schedule, model, std::move(x_T), gen, spec, sampler_timesteps(spec, schedule.T), on_step);
}

torch::Tensor run_sampler_on(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x, at::Generator& gen,
                             const SamplerSpec& spec, const std::vector<int64_t>& timesteps, const StepCallback& on_step) {
  const auto& kind = sampler_kind(spec.kind);
  check_timesteps(timesteps, schedule.T, spec.kind);
  if (timesteps.empty()) throw std::invalid_argument(fmt::format("{}: no timesteps to sample on", spec.kind));
  return kind.run(schedule, model, std::move(x), gen, spec, timesteps, on_step);
}

}  // namespace ddpm
