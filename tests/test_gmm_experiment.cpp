// The Gaussian-mixture experiment's pieces: training error against a perturbed oracle with a known error,
// initialization error against the exact start, the oracle at the noise floor, the JSON keys, the PNGs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "ddpm/core/random.h"
#include "ddpm/evaluation/plots.h"
#include "ddpm/experiments/error_sources.h"
#include "ddpm/experiments/gmm_experiment.h"

using namespace ddpm;

TEST(TrainingError, PerturbedOracleHasTheKnownError) {
  const auto schedule = make_schedule({});
  const auto mixture = builtin_mixture("ring8");
  const auto oracle = mixture_noise_predictor(mixture, schedule);
  auto gen = make_generator(30);
  for (const auto& row : training_error_by_band(mixture, schedule, oracle, 4, 200, gen)) EXPECT_EQ(row.error, 0.0);
  // ε* + c for a constant c: ‖ε_θ - ε*‖² = ‖c‖² = 0.01 + 0.04 at every point, so in every band.
  auto c = torch::tensor({{0.1, -0.2}});
  NoisePredictor perturbed = [&](const torch::Tensor& x, const torch::Tensor& t) { return oracle(x, t) + c; };
  const auto rows = training_error_by_band(mixture, schedule, perturbed, 5, 200, gen);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows.front().t_from, 0);
  EXPECT_EQ(rows.back().t_to, 1000);
  for (const auto& row : rows) EXPECT_NEAR(row.error, 0.05, 1e-6);  // float32 rounding of ε only
}

TEST(Initialization, ShortChainsPayForStartingAtNormal) {
  const auto mixture = builtin_mixture("two-modes");
  auto gen = make_generator(31);
  auto reference = sample_points(mixture, 2000, gen);
  ScheduleConfig short_chain;
  short_chain.timesteps = 50;  // ᾱ_T ≈ 0.6: q(x_T) is still bimodal
  const auto row = initialization_error(mixture, short_chain, reference, 128, gen);
  EXPECT_GT(row.alpha_bar_T, 0.5);
  EXPECT_GT(row.kl, 0.5);
  // From the exact q(x_T) the oracle is unbiased whatever T is; from N(0, I) it is far off.
  EXPECT_GT(row.distance_from_normal, 3 * row.distance_from_exact);
}

// Under "the oracle samples the truth" its distance to a reference set is distributed like the distance of an
// independent true set; compare the means of 4 oracle runs and 12 true sets with a two-sample 3-sigma bound
// (sliced W2 here is dominated by the binomial fluctuation of the mode weights, so single values are noisy).
TEST(GmmExperiment, OracleDistanceIsAtTheNoiseFloor) {
  const auto schedule = make_schedule({});
  const auto mixture = builtin_mixture("two-modes");
  const auto oracle = mixture_noise_predictor(mixture, schedule);
  auto gen = make_generator(32);
  const int64_t n = 1000;
  auto reference = sample_points(mixture, n, gen);
  auto distances = [&](int64_t runs, const std::function<torch::Tensor()>& draw) {
    auto d = torch::empty({runs}, torch::kFloat64);
    for (int64_t i = 0; i < runs; ++i) d[i] = evaluate_samples(mixture, draw(), reference, 128, gen).distance;
    return d;
  };
  auto floors = distances(12, [&] { return sample_points(mixture, n, gen); });
  auto sampled = distances(4, [&] { return ancestral_points(schedule, oracle, n, 2, gen); });
  const double sd = floors.std().item<double>();
  const double bound = 3 * sd * std::sqrt(1.0 / 12 + 1.0 / 4);
  EXPECT_LT(sampled.mean().item<double>() - floors.mean().item<double>(), bound);
  // The test has power: samples with weights 0.38/0.62 instead of 0.3/0.7 are beyond the bound.
  auto wrong = mixture;
  wrong.weights = {0.38, 0.62};
  auto off = distances(4, [&] { return sample_points(wrong, n, gen); });
  EXPECT_GT(off.mean().item<double>() - floors.mean().item<double>(), bound);
}

TEST(GmmExperiment, JsonHasTheKeys) {
  GmmExperimentConfig c;
  c.samples = 1000;
  c.discretization_steps = {10, 100};
  ScheduleConfig init;
  init.timesteps = 20;
  c.initialization_schedules = {init};
  c.langevin_epsilons = {1e-4};
  c.langevin_levels = 20;
  c.langevin_steps_per_level = 5;
  const auto report = run_gmm_experiment(c, std::nullopt);
  EXPECT_GT(report.noise_floor_sd, 0.0);
  const double se = std::sqrt(0.21 / 3000);
  EXPECT_NEAR(report.oracle.weights[0], 0.3, 3 * se);
  const auto j = to_json(report);
  for (const char* key : {"true_weights", "oracle", "learned", "noise_floor", "discretization", "initialization",
                          "training_error", "langevin"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["learned"].is_null());
  EXPECT_TRUE(j["training_error"].is_null());
  EXPECT_EQ(j["discretization"].size(), 2u);
  EXPECT_EQ(j["discretization"][1]["steps"], 100);
  for (const char* key : {"weights", "distance", "between_modes_fraction"}) EXPECT_TRUE(j["oracle"].contains(key));
  EXPECT_EQ(j["langevin"]["rows"][0]["evaluations"], 100);
  // With 10 steps the oracle is visibly worse than with 100 (discretization error).
  EXPECT_GT(report.discretization[0].distance, report.discretization[1].distance);
}

TEST(Plots, WritesAPng) {
  const std::string path = testing::TempDir() + "/plot.png";
  Figure f;
  PlotPanel p{"title", "x", "y", {{"line", {1, 10, 100}, {1, 0.5, 0.2}, PlotSeries::Style::LinePoints}}};
  p.log_x = true;
  f.panels = {p, p};
  f.columns = 2;
  write_png(path, f);
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_THROW(write_png("/nonexistent/dir/plot.png", f), std::runtime_error);
}
