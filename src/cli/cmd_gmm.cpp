// `ddpm gmm`: the Gaussian-mixture experiment (seed 001 Parts 2, 5, 7): trains the MLP denoiser on the
// mixture (Algorithm 1, into OUT/model), then measures it beside the exact denoiser.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "analytic/gaussian_mixture.h"
#include "cli/commands.h"
#include "experiments/gmm_experiment.h"
#include "experiments/gmm_figures.h"
#include "samplers/respacing.h"
#include "training/network_predictor.h"
#include "training/trained_model.h"
#include "training/trainer.h"

namespace ddpm::cli {
namespace {

struct GmmArgs {
  GmmExperimentConfig config;
  std::string out;
  bool json = false;
  bool figures = true;
  int64_t train_steps = 4000;  // 0: the exact denoiser only
};

// Trains (or, if OUT/model already holds a finished run, reuses) the MLP on the mixture.
std::string train_mixture_model(const GmmArgs& args) {
  const std::string run_dir = args.out + "/model";
  TrainConfig c;
  c.data = "gmm:" + args.config.mixture;
  c.preset = "mlp-2d";
  c.schedule = args.config.schedule;
  c.steps = args.train_steps;
  c.batch = 256;
  c.lr = 1e-3;
  c.warmup = 100;
  c.ema_decay = 0.999;
  c.seed = args.config.seed;
  c.sample_every = 0;
  c.checkpoint_every = 0;
  c.log_every = 100;
  auto trainer = std::filesystem::exists(run_dir) ? Trainer::resume(run_dir, c.steps) : Trainer::create(c, run_dir);
  trainer->run(false);
  return run_dir;
}

void run(const GmmArgs& args) {
  // The tensors here are small ([n, K, d] with d = 2); intra-op threads only add synchronisation, which on
  // the shared 2-core machine made the run 5-10x slower than one thread.
  torch::set_num_threads(1);
  std::filesystem::create_directories(args.out);
  std::optional<NoisePredictor> learned;
  TrainedModel model;
  if (args.train_steps > 0) {
    model = load_trained_model(train_mixture_model(args));
    learned = network_predictor(*model.net);
  }
  const auto report = run_gmm_experiment(args.config, learned);
  auto json = to_json(report);
  json["figures"] = args.figures ? write_gmm_figures(args.config, report, args.out) : std::vector<std::string>{};
  const std::string report_path = args.out + "/report.json";
  std::ofstream(report_path) << json.dump(2) << "\n";
  if (args.json) {
    std::cout << json.dump() << "\n";
    return;
  }
  std::cout << format_report(report);
  fmt::print("report: {}\n", report_path);
  for (const auto& path : json["figures"]) fmt::print("figure: {}\n", path.get<std::string>());
}

}  // namespace

Subcommand add_gmm(CLI::App& parent) {
  auto* app = parent.add_subcommand("gmm", "Gaussian-mixture experiment: exact denoiser, Langevin, the three sources of error");
  auto args = std::make_shared<GmmArgs>();
  auto& c = args->config;
  app->add_option("--mixture", c.mixture, "two-modes | ring8 | grid25 | FILE.json")->capture_default_str();
  app->add_option("--out", args->out, "output folder (report.json and PNG figures)")->required();
  app->add_flag("--json", args->json, "print one JSON object instead of the tables");
  app->add_option("--n", c.samples, "points per sample set")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{10000000}));
  app->add_option("--seed", c.seed, "random seed")->capture_default_str();
  app->add_option("--timesteps,-T", c.schedule.timesteps, "T of the linear schedule")->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--projections", c.projections, "sliced-W2 directions")->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--spacing", c.spacing, "respaced timesteps: leading | trailing | linspace")
      ->capture_default_str()
      ->check(CLI::IsMember(timestep_spacings()));
  app->add_option("--steps", c.discretization_steps, "K values of the discretization table")->capture_default_str();
  app->add_option("--langevin-eps", c.langevin_epsilons, "Langevin step sizes")->capture_default_str();
  app->add_flag("!--no-figures", args->figures, "skip the PNG figures");
  app->add_option("--train-steps", args->train_steps, "training steps of the learned MLP (0: exact denoiser only)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  return {app, [args] { run(*args); }};
}

}  // namespace ddpm::cli
