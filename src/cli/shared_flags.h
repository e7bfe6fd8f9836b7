// Flags that several subcommands take, defined once so that their names, checks and help agree. The
// allowed values come from the library's own lists (sampler_kinds(), timestep_spacings(), ...).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "samplers/sampler.h"

namespace ddpm::cli {

// --sampler, --steps, --spacing, --eta into `spec`; `scope` prefixes their help ("fid: " in eval).
void add_sampler_flags(CLI::App& app, SamplerSpec& spec, const std::string& scope = "");

// --data with one help line per data source after `what` ("training data:").
CLI::Option* add_data_flag(CLI::App& app, std::string& spec, const std::string& what);

// A help text listing each choice's own help line after `what`.
std::string choices_help(const std::string& what, const std::vector<std::string>& lines);

}  // namespace ddpm::cli
