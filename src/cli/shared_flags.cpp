#include "cli/shared_flags.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ddpm::cli {

std::vector<CLI::Option*> add_unet_shape_flags(CLI::App* app, UNetShape& s) {
  return {
      app->add_option_function<int64_t>("--channels", [&s](const int64_t& v) { s.base_channels = v; },
                                        "U-Net: channels of the first level (default: the preset's)")
          ->check(CLI::PositiveNumber),
      app->add_option_function<std::vector<int64_t>>("--channel-mult", [&s](const std::vector<int64_t>& v) { s.channel_mult = v; },
                                                     "U-Net: channel multiplier per level, e.g. 1,2,2 (one level per entry)")
          ->delimiter(',')->check(CLI::PositiveNumber),
      app->add_option_function<int64_t>("--res-blocks", [&s](const int64_t& v) { s.num_res_blocks = v; },
                                        "U-Net: residual blocks per level")
          ->check(CLI::PositiveNumber),
      app->add_option_function<std::vector<int64_t>>(
             "--attention-res", [&s](const std::vector<int64_t>& v) { s.attention_resolutions = v; },
             "U-Net: feature-map sizes min(H, W) with self-attention, e.g. 16 or 16,8 (default: the preset's, "
             "moved to the level of the data nearest in size)")
          ->delimiter(',')->check(CLI::PositiveNumber),
      app->add_option_function<double>("--dropout", [&s](const double& v) { s.dropout = v; },
                                       "U-Net: dropout in the residual blocks, in [0, 1)")
          ->check(CLI::Range(0.0, 1.0)),
  };
}

ScheduleFlags add_schedule_flags(CLI::App* app, ScheduleConfig& c) {
  ScheduleFlags f;
  f.kind = app->add_option("--schedule", c.kind, fmt::format("variance schedule: {}", fmt::join(schedule_kinds(), " | ")))
               ->capture_default_str()->check(CLI::IsMember(schedule_kinds()));
  f.timesteps = app->add_option("--timesteps,-T", c.timesteps, "diffusion steps T (custom: default the file's count)")
                    ->capture_default_str()->check(CLI::PositiveNumber);
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
