// Flags that several commands take, defined once: the U-Net's shape (train, info) and the variance
// schedule (train, schedule).
#pragma once

#include <CLI/CLI.hpp>

#include <vector>

#include "core/schedule.h"
#include "training/model_choice.h"

namespace ddpm::cli {

// --channels, --channel-mult, --res-blocks, --attention-res, --dropout; returns the options.
std::vector<CLI::Option*> add_unet_shape_flags(CLI::App* app, UNetShape& shape);

struct ScheduleFlags {
  CLI::Option *kind, *timesteps, *betas_file;
};
// --schedule, --timesteps/-T, --betas-file.
ScheduleFlags add_schedule_flags(CLI::App* app, ScheduleConfig& config);
// After parsing: --betas-file alone means --schedule custom, and custom without -T takes T from the file.
void finish_schedule_flags(const ScheduleFlags& flags, ScheduleConfig& config);

}  // namespace ddpm::cli
