// `ddpm gmm`: the Gaussian-mixture experiment (the lecture notes' Parts 2, 5 and 7, docs/NOTATION.md):
// trains the MLP on the mixture (Algorithm 1, into OUT/model), then measures it beside the exact denoiser.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "ddpm/experiments/gmm_run.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm::cli {
namespace {

struct GmmArgs {
  GmmRunOptions run;
  bool json = false;
};

void run(const GmmArgs& args) {
  const auto result = run_gmm(args.run);
  if (args.json) {
    std::cout << result.json.dump() << "\n";
    return;
  }
  std::cout << format_report(result.report);
  if (result.inpainting) std::cout << "\n" << format_mixture_inpainting(*result.inpainting);
  if (!result.classes.empty()) std::cout << "\n" << format_class_guidance(result.classes);
  fmt::print("report: {}\n", result.report_path);
  for (const auto& path : result.figures) fmt::print("figure: {}\n", path);
}

}  // namespace

Subcommand add_gmm(CLI::App& parent) {
  auto* app = parent.add_subcommand("gmm", "Gaussian-mixture experiment: exact denoiser, Langevin, the three sources of error");
  auto args = std::make_shared<GmmArgs>();
  auto& c = args->run.config;
  app->add_option("--mixture", c.mixture, "two-modes | ring8 | grid25 | FILE.json")->capture_default_str();
  app->add_option("--out", args->run.out, "output folder (report.json and PNG figures)")->required();
  app->add_flag("--json", args->json, "print one JSON object instead of the tables");
  app->add_flag("--force", args->run.replace, "write into an output folder that holds files, replacing them");
  app->add_option("--n", c.samples, "points per sample set")->capture_default_str()->check(between(2, 1e7));
  app->add_option("--seed", c.seed, "random seed")->capture_default_str();
  app->add_option("--timesteps,-T", c.schedule.timesteps, "T of the linear schedule")->capture_default_str()->check(positive(kMaxTimesteps));
  app->add_option("--projections", c.projections, "sliced-W2 directions")->capture_default_str()->check(positive());
  app->add_option("--spacing", c.spacing, "respaced timesteps: leading | trailing | linspace")
      ->capture_default_str()
      ->check(CLI::IsMember(timestep_spacings()));
  app->add_option("--steps", c.discretization_steps, "K values of the discretization table")->capture_default_str();
  app->add_option("--langevin-eps", c.langevin_epsilons, "Langevin step sizes")->capture_default_str()->check(positive());
  // A callback, not a negated bool flag, so that --help shows no "{false}" after the name.
  app->add_flag_callback("--no-figures", [args] { args->run.figures = false; }, "skip the PNG figures");
  app->add_option("--train-steps", args->run.train_steps, "training steps of the learned MLP (0: exact denoiser only)")
      ->capture_default_str()->check(non_negative());
  auto* conditional = app->add_flag("--conditional", args->run.conditional,
                "the components as classes: a class-conditional MLP and classifier-free guidance beside the exact "
                "class denoiser (a table and classes.png)");
  app->add_option("--guidance", args->run.classes.guidance, "with --conditional: the guidance weights w")
      ->delimiter(',')->capture_default_str()->check(non_negative())->needs(conditional);
  return {app, [args] { run(*args); }};
}

}  // namespace ddpm::cli
