#include "cli/shared_flags.h"

#include "data/data_spec.h"
#include "samplers/respacing.h"

namespace ddpm::cli {

std::string choices_help(const std::string& what, const std::vector<std::string>& lines) {
  std::string help = what;
  for (const auto& line : lines) help += "\n  " + line;
  return help;
}

void add_sampler_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope) {
  app.add_option("--sampler", spec.kind, choices_help(scope + "sampler:", sampler_help()))
      ->capture_default_str()->check(CLI::IsMember(sampler_kinds()));
  const bool all_by_default = spec.steps <= 0;
  auto* steps = app.add_option("--steps", spec.steps,
                               scope + "sampling steps (noise levels for langevin" + (all_by_default ? "; default: all T)" : ")"))
                    ->check(CLI::PositiveNumber);
  if (!all_by_default) steps->capture_default_str();
  app.add_option("--spacing", spec.spacing, scope + "which steps, with --steps < T: leading | trailing | linspace")
      ->capture_default_str()->check(CLI::IsMember(timestep_spacings()));
  app.add_option("--eta", spec.eta, scope + "DDIM eta (0: deterministic)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

CLI::Option* add_data_flag(CLI::App& app, std::string& spec, const std::string& what) {
  return app.add_option("--data", spec, choices_help(what, data_spec_help()))->capture_default_str();
}

}  // namespace ddpm::cli
