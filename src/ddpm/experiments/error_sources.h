// Measurements on Gaussian-mixture data that need no trained network (the lecture notes' Parts 2, 5 and 7, docs/NOTATION.md). The exact
// denoiser ε* (the "oracle") isolates each sampler's own error; a learned model plugs in as a NoisePredictor.
// Distances are sliced W2 to a fixed true sample of the same size, always shown beside the noise floor.
#pragma once

#include <ATen/core/Generator.h>

#include <string>
#include <vector>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

// Part 5's figures of merit for one sample set.
struct SampleQuality {
  std::vector<double> weights;    // per-mode proportions (most responsible component)
  double distance = 0.0;          // sliced W2 to the reference true sample
  double between_modes_fraction = 0.0;
  double mean_log_likelihood = 0.0;
};
SampleQuality evaluate_samples(const GaussianMixture& mixture, const torch::Tensor& samples,
                               const torch::Tensor& reference, int64_t projections, at::Generator& gen);

// Ancestral sampling (Algorithm 2) of n points from x_T ~ N(0, I).
torch::Tensor ancestral_points(const Schedule& schedule, const NoisePredictor& model, int64_t n, int64_t dim,
                               at::Generator& gen);

// Part 7.1. KL(q(x_T) || N(0, I)) — both densities are exact, so for d ≤ 2 by quadrature on a fine grid (error
// far below the printed digits; kl_se = 0), otherwise by Monte Carlo over exact draws of q(x_T) with its
// standard error — and the oracle's distance to the truth when started from N(0, I) against from q(x_T).
struct InitializationRow {
  std::string schedule;
  int64_t T = 0;
  double alpha_bar_T = 0.0;
  double kl = 0.0, kl_se = 0.0;  // nats
  std::string kl_method;         // "quadrature" or "monte carlo"
  double distance_from_normal = 0.0, distance_from_exact = 0.0;
};
double kl_to_standard_normal_quadrature(const GaussianMixture& q);  // d ≤ 2
InitializationRow initialization_error(const GaussianMixture& mixture, const ScheduleConfig& config,
                                       const torch::Tensor& reference, int64_t projections, at::Generator& gen);

// Part 7.2. E‖ε_θ(x_t, t) - ε*(x_t, t)‖² (summed over dimensions) over x_0 ~ q, ε ~ N(0, I) and t uniform in
// each of `bands` equal bands of [0, T).
struct TrainingErrorRow {
  int64_t t_from = 0, t_to = 0;  // 0-based, t_to exclusive
  double error = 0.0, se = 0.0;
};
std::vector<TrainingErrorRow> training_error_by_band(const GaussianMixture& mixture, const Schedule& schedule,
                                                     const NoisePredictor& model, int64_t bands,
                                                     int64_t samples_per_band, at::Generator& gen);

// Part 7.3. The oracle on K respaced steps: ancestral with re-derived β, and DDIM (η = 0) on the same steps.
struct DiscretizationRow {
  int64_t steps = 0;
  double distance = 0.0;       // respaced ancestral
  double ddim_distance = 0.0;  // DDIM, η = 0
};
DiscretizationRow discretization_error(const GaussianMixture& mixture, const Schedule& schedule,
                                       const NoisePredictor& model, int64_t steps, const std::string& spacing,
                                       const torch::Tensor& reference, int64_t projections, at::Generator& gen);

// Part 2. Annealed Langevin with `levels` noise levels × `steps_per_level` steps (as many network
// evaluations as the ancestral chain when levels × steps = T), for one step size ε.
struct LangevinRow {
  double epsilon = 0.0;
  int64_t levels = 0, steps_per_level = 0;
  SampleQuality quality;
};
LangevinRow langevin_run(const GaussianMixture& mixture, const Schedule& schedule, const NoisePredictor& model,
                         double epsilon, int64_t levels, int64_t steps_per_level, const torch::Tensor& reference,
                         int64_t projections, at::Generator& gen);

}  // namespace ddpm
