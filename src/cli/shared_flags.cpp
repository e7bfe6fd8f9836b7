#include "cli/shared_flags.h"

#include <fmt/ranges.h>

#include "ddpm/data/data_spec.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm::cli {

std::string choices_help(const std::string& what, const std::vector<std::string>& lines) {
  std::string help = what;
  for (const auto& line : lines) help += "\n  " + line;
  return help;
}

void add_sampler_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope) {
  app.add_option("--sampler", spec.kind, choices_help(scope + "sampler:", sampler_help()))
      ->capture_default_str()->check(CLI::IsMember(sampler_kinds()));
  add_step_flags(app, spec, scope, /*langevin=*/true);
  app.add_option("--eta", spec.eta, scope + "DDIM eta (0: deterministic)")->capture_default_str()
      ->check(non_negative());
}

CLI::Option* add_step_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope, bool langevin) {
  const bool all_by_default = spec.steps <= 0;
  std::string help = scope + "sampling steps";
  if (langevin) help += " (noise levels for langevin)";
  help += all_by_default ? " (default: all T)" : " (at most T)";
  auto* steps = app.add_option("--steps", spec.steps, help)->check(positive());
  if (!all_by_default) steps->capture_default_str();
  app.add_option_function<std::string>(
         "--spacing", [&spec](const std::string& v) { spec.spacing = v; },
         scope + "which steps, with --steps < T: leading | trailing | linspace (default: the model's, else leading)")
      ->check(CLI::IsMember(timestep_spacings()));
  return steps;
}

CLI::Option* add_precision_flag(CLI::App& app, std::string& name) {
  return app
      .add_option("--precision", name,
                  fmt::format("arithmetic of the network's convolutions, linear layers and attention: fp32, or bf16 "
                              "with fp32 weights; auto: bf16 where the device has native bf16 (this machine's CPU: "
                              "{}) and the network gains from it (U-Nets; the point MLP stays fp32)",
                              has_native_bf16(torch::kCPU) ? "yes" : "no"))
      ->capture_default_str()
      ->check(CLI::IsMember(precision_choices()));
}

CLI::Option* add_data_flag(CLI::App& app, std::string& spec, const std::string& what) {
  return app.add_option("--data", spec, choices_help(what, data_spec_help()))->capture_default_str();
}

std::vector<CLI::Option*> add_unet_shape_flags(CLI::App* app, UNetShape& s) {
  return {
      app->add_option_function<int64_t>("--channels", [&s](const int64_t& v) { s.base_channels = v; },
                                        "U-Net: channels of the first level (default: the preset's)")
          ->check(positive()),
      app->add_option_function<std::vector<int64_t>>("--channel-mult", [&s](const std::vector<int64_t>& v) { s.channel_mult = v; },
                                                     "U-Net: channel multiplier per level, e.g. 1,2,2 (one level per entry)")
          ->delimiter(',')->check(positive()),
      app->add_option_function<int64_t>("--res-blocks", [&s](const int64_t& v) { s.num_res_blocks = v; },
                                        "U-Net: residual blocks per level")
          ->check(positive()),
      app->add_option_function<std::vector<int64_t>>(
             "--attention-res", [&s](const std::vector<int64_t>& v) { s.attention_resolutions = v; },
             "U-Net: feature-map sizes min(H, W) with self-attention, e.g. 16 or 16,8 (default: the preset's, "
             "moved to the level of the data nearest in size)")
          ->delimiter(',')->check(positive()),
      app->add_option_function<double>("--dropout", [&s](const double& v) { s.dropout = v; },
                                       "U-Net: dropout in the residual blocks, in [0, 1)")
          ->check(between(0.0, 1.0, /*hi_inclusive=*/false)),
  };
}

ScheduleFlags add_schedule_flags(CLI::App* app, ScheduleConfig& c) {
  ScheduleFlags f;
  f.kind = app->add_option("--schedule", c.kind, choices_help("variance schedule:", schedule_help()))
               ->capture_default_str()->check(CLI::IsMember(schedule_kinds()));
  f.timesteps = app->add_option("--timesteps,-T", c.timesteps, "diffusion steps T (custom: default the file's count)")
                    ->capture_default_str()->check(positive(kMaxTimesteps));
  f.betas_file = app->add_option("--betas-file", c.betas_file,
                                 "custom schedule: a text file of the betas (implies --schedule custom)")
                     ->check(CLI::ExistingFile);
  return f;
}

void finish_schedule_flags(const ScheduleFlags& f, ScheduleConfig& c) {
  if (f.betas_file->count() && !f.kind->count()) c.kind = "custom";
  if (f.betas_file->count() && c.kind != "custom")
    throw CLI::ValidationError("--betas-file", fmt::format("applies to --schedule custom, not {}", c.kind));
  if (c.kind == "custom" && !f.timesteps->count()) c.timesteps = 0;
}

}  // namespace ddpm::cli
