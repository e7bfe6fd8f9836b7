// `ddpm demo`: the README's main job (experiments/demo.h): samples from the shipped model, the generation
// process, and the seed's two-mode mixture experiment, written with a summary to one folder.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/experiments/demo.h"

namespace ddpm::cli {

Subcommand add_demo(CLI::App& parent) {
  auto* app = parent.add_subcommand("demo", "sample the shipped Fashion-MNIST model (a row per class), draw the generation process, run the mixture experiment");
  auto o = std::make_shared<DemoOptions>();
  app->add_option("--model", o->model, "shipped model name, model file, run folder or diffusers folder")->capture_default_str();
  app->add_option("--out", o->out, "output folder")->capture_default_str();
  app->add_flag("--force", o->replace, "write into an output folder that holds files, replacing them");
  app->add_option("--seed", o->seed, "seed")->capture_default_str();
  add_precision_flag(*app, o->precision);
  app->add_option("--grid", o->grid, "images in the DDIM grid (a class-conditional model: spread over its classes, a row each)")
      ->capture_default_str()->check(positive());
  app->add_option("--guidance", o->guidance, "a class-conditional model's classifier-free guidance weight (default 0.5)")
      ->check(non_negative());
  app->add_option("--ddim-steps", o->ddim_steps, "DDIM steps")->capture_default_str()->check(positive());
  app->add_option("--ancestral-n", o->ancestral_n, "images drawn by Algorithm 2 (a class-conditional model: at least one per class)")->capture_default_str()->check(positive());
  app->add_option("--ancestral-steps", o->ancestral_steps, "steps of Algorithm 2 (fewer than T: respaced)")
      ->capture_default_str()->check(positive());
  // A callback, not a negated bool flag, so that --help shows no "{false}" after the name.
  app->add_flag_callback("--no-gmm", [o] { o->gmm = false; }, "skip the Gaussian-mixture experiment");
  app->add_option("--gmm-train-steps", o->gmm_train_steps, "training steps of the mixture's MLP")
      ->capture_default_str()->check(positive());
  return {app, [o] {
            const auto result = run_demo(*o, [](const std::string& line) { fmt::print(stderr, "{}\n", line); });
            fmt::print("\n");
            for (const auto& f : result.files) fmt::print("{}\n    {}\n", f.path, f.what);
            fmt::print("\ndemo finished in {:.0f} s: pictures and summary in {} (read {})\n", result.seconds, o->out,
                       result.summary_path);
          }};
}

}  // namespace ddpm::cli
