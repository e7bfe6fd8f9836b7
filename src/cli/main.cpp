// `ddpm`: the command-line tool. Exit codes: 0 success, 1 runtime error, 2 usage error.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <exception>
#include <vector>

#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/remedy_flags.h"
#include "ddpm/io/remedy.h"
#include "ddpm/runtime/cpu_runtime.h"
#include "ddpm/training/stop_signal.h"
#include "ddpm/version.h"

int main(int argc, char** argv) {
  CLI::App app{"ddpm: Denoising Diffusion Probabilistic Models (Ho et al. 2020) on LibTorch"};
  app.require_subcommand(1, 1);
  app.fallthrough();  // the tool's own options (--threads) also after the command, as docs/PERFORMANCE.md writes them
  app.set_version_flag("--version", fmt::format("ddpm {} (LibTorch {}.{}.{})", DDPM_VERSION, TORCH_VERSION_MAJOR,
                                                TORCH_VERSION_MINOR, TORCH_VERSION_PATCH));
  int threads = 0;
  app.add_option("--threads", threads, fmt::format("intra-op CPU threads (default: all cores; at most {})", ddpm::max_cpu_threads()))
      ->check(ddpm::cli::non_negative(ddpm::max_cpu_threads()));

  using namespace ddpm::cli;
  const std::vector<Subcommand> commands = {add_schedule(app), add_info(app), add_train(app), add_sample(app),
                                            add_gmm(app), add_demo(app), add_export(app),
                                            add_eval(app), add_classifier(app), add_bench(app), add_plot(app), add_edit(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A mistyped subcommand is left over as an extra word, and CLI11 would only say that one is required.
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty() && extras.front().rfind('-', 0) != 0) {
      std::vector<std::string> names;
      for (const auto* command : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(command->get_name());
      std::fprintf(stderr, "error: unknown subcommand '%s' (one of: %s)\n", extras.front().c_str(),
                   fmt::format("{}", fmt::join(names, ", ")).c_str());
      return 2;
    }
    app.exit(e);
    return 2;
  }

  ddpm::configure_cpu_runtime(threads);  // threads (default: every core), OpenBLAS, heap
  try {
    for (const auto& command : commands)
      if (command.app->parsed()) command.run();
  } catch (const CLI::Error& e) {  // a flag combination only the handler can check
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const ddpm::Interrupted& e) {  // training stopped by SIGINT or SIGTERM, its checkpoint written
    std::fprintf(stderr, "stopped: %s; %s\n", e.problem().c_str(), remedy_in_flags(e.remedy(), e.subject()).c_str());
    return e.exit_status();
  } catch (const ddpm::ActionableError& e) {  // the library's remedy, said in the tool's flags
    std::fprintf(stderr, "error: %s; %s\n", e.problem().c_str(), remedy_in_flags(e.remedy(), e.subject()).c_str());
    return 1;
  } catch (const c10::Error& e) {  // LibTorch's own: its message on one line, without the C++ backtrace
    std::string message = e.what_without_backtrace();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
