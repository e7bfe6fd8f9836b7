// `ddpm gmm`: the lecture notes' Parts 2, 5 and 7 (docs/NOTATION.md) on a Gaussian mixture, with the exact
// denoiser ε* (the oracle) and, when given, a learned noise predictor. run_gmm_experiment gathers every table
// into one GmmReport, whose JSON has one key per measurement (true_weights, oracle, learned, noise_floor, discretization,
// initialization, training_error, langevin).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"
#include "ddpm/experiments/error_sources.h"

namespace ddpm {

struct GmmExperimentConfig {
  std::string mixture = "two-modes";  // built-in name or JSON file
  ScheduleConfig schedule;            // the (learned model's) schedule: linear, T = 1000
  int64_t samples = 10000;            // points per sample set (Part 5 asks for ≥ 10,000)
  uint64_t seed = 0;
  int64_t projections = 256;          // sliced-W2 directions
  std::vector<int64_t> discretization_steps = {10, 20, 50, 100, 250, 1000};
  std::string spacing = "linspace";   // includes both t = T and t = 1
  std::vector<ScheduleConfig> initialization_schedules = default_initialization_schedules();
  std::vector<double> langevin_epsilons = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3};
  int64_t langevin_levels = 100, langevin_steps_per_level = 10;  // 1000 evaluations, as ancestral with T = 1000
  int64_t training_error_bands = 10, training_error_samples = 2000;
  int64_t noise_floor_pairs = 8;  // independent true samples measured against the reference

  // linear with T = 50, 100, 200, 1000 and cosine with T = 50, 1000.
  static std::vector<ScheduleConfig> default_initialization_schedules();
};

struct GmmReport {
  std::string mixture;
  int64_t samples = 0;
  int64_t timesteps = 0;  // T of the schedule every Part 5 / Part 2 chain runs on
  std::vector<double> true_weights;
  SampleQuality truth;     // an independent true sample measured like the others (its distance: the noise floor)
  double noise_floor = 0.0;     // mean sliced W2 between the reference and independent true samples
  double noise_floor_sd = 0.0;  // its spread over those pairs: differences below ~2 sd are noise
  SampleQuality oracle;
  std::optional<SampleQuality> learned;
  std::vector<DiscretizationRow> discretization;
  std::vector<InitializationRow> initialization;
  std::optional<std::vector<TrainingErrorRow>> training_error;  // needs the learned model
  SampleQuality langevin_ancestral;                              // the ancestral chain at the same evaluations
  std::vector<LangevinRow> langevin;
  double seconds = 0.0;
  // The point sets, for the figures (not serialised): [n, d] float32.
  torch::Tensor reference, oracle_samples, learned_samples;
};

// Runs every part; `learned` (trained on `config.schedule`) adds the learned rows, else they stay empty.
GmmReport run_gmm_experiment(const GmmExperimentConfig& config, const std::optional<NoisePredictor>& learned);

nlohmann::json to_json(const GmmReport& report);
// The human-readable tables.
std::string format_report(const GmmReport& report);

}  // namespace ddpm
