// Flags that several subcommands take, defined once so that their names, checks and help agree. The
// allowed values come from the library's own lists (sampler_kinds(), timestep_spacings(), ...).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/number_checks.h"
#include "ddpm/core/schedule.h"
#include "ddpm/models/model_choice.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm::cli {

// --sampler, --steps, --spacing, --eta into `spec`; `scope` prefixes their help ("fid: " in eval).
void add_sampler_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope = "");
// --steps and --spacing alone (for commands whose sampler is fixed); returns --steps.
CLI::Option* add_step_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope = "", bool langevin = false);

// --data with one help line per data source after `what` ("training data:").
CLI::Option* add_data_flag(CLI::App& app, std::string& spec, const std::string& what);

// --precision (train, sample, eval, demo): auto | fp32 | bf16 into `name`, resolved later for the device.
CLI::Option* add_precision_flag(CLI::App& app, std::string& name);

// A help text listing each choice's own help line after `what`.
std::string choices_help(const std::string& what, const std::vector<std::string>& lines);

// The U-Net's shape (train, info): --channels, --channel-mult, --res-blocks, --attention-res, --dropout;
// returns the options.
std::vector<CLI::Option*> add_unet_shape_flags(CLI::App* app, UNetShape& shape);

struct ScheduleFlags {
  CLI::Option *kind, *timesteps, *betas_file;
};
// The variance schedule (train, schedule): --schedule, --timesteps/-T, --betas-file.
ScheduleFlags add_schedule_flags(CLI::App* app, ScheduleConfig& config);
// After parsing: --betas-file alone means --schedule custom, and custom without -T takes T from the file.
void finish_schedule_flags(const ScheduleFlags& flags, ScheduleConfig& config);

}  // namespace ddpm::cli
