// `ddpm`: the command-line tool. Exit codes: 0 success, 1 runtime error, 2 usage error.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "runtime/cpu_runtime.h"
#include "version.h"

int main(int argc, char** argv) {
  CLI::App app{"ddpm: Denoising Diffusion Probabilistic Models (Ho et al. 2020) on LibTorch"};
  app.require_subcommand(1, 1);
  app.fallthrough();  // the tool's own options (--threads) also after the command, as docs/PERFORMANCE.md writes them
  app.set_version_flag("--version", fmt::format("ddpm {} (LibTorch {}.{}.{})", DDPM_VERSION, TORCH_VERSION_MAJOR,
                                                TORCH_VERSION_MINOR, TORCH_VERSION_PATCH));
  int threads = 0;
  app.add_option("--threads", threads, "intra-op CPU threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);

  using namespace ddpm::cli;
  const std::vector<Subcommand> commands = {add_schedule(app), add_info(app), add_train(app), add_sample(app),
                                            add_gmm(app), add_demo(app), add_export(app),
                                            add_eval(app), add_classifier(app), add_bench(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
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
