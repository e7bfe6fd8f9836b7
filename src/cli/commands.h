// Each subcommand of the `ddpm` tool adds its flags to the CLI11 app and returns a runner that main()
// calls after parsing. Runners are thin: check flags, call the library, print. They throw
// std::exception on runtime failure (main prints "error: ..." and exits 1).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "cli/number_checks.h"

namespace ddpm::cli {

struct Subcommand {
  CLI::App* app;
  std::function<void()> run;
};

Subcommand add_schedule(CLI::App& parent);
Subcommand add_info(CLI::App& parent);
Subcommand add_train(CLI::App& parent);
Subcommand add_sample(CLI::App& parent);
Subcommand add_gmm(CLI::App& parent);
Subcommand add_demo(CLI::App& parent);
Subcommand add_export(CLI::App& parent);
Subcommand add_eval(CLI::App& parent);
Subcommand add_classifier(CLI::App& parent);
Subcommand add_bench(CLI::App& parent);
Subcommand add_plot(CLI::App& parent);
Subcommand add_edit(CLI::App& parent);

}  // namespace ddpm::cli
