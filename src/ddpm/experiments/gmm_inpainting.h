// The inpainting part of `ddpm gmm`: RePaint (editing/inpaint.h) fills the first coordinates of points whose
// last coordinate is given, driven by the exact denoiser and by the learned network, against the exact
// conditional q(x_1 | x_d) (analytic/gaussian_mixture.h's condition_mixture): the mixture experiment's view of
// what inpainting should draw.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct InpaintedCoordinate {
  double mean = 0.0, std = 0.0;
  // Kolmogorov-Smirnov distance between the samples' x_1 and the exact conditional's: sup |F_n − F|.
  double ks = 0.0;
};

struct MixtureInpainting {
  double given = 0.0;          // the value of the last coordinate every point keeps
  GaussianMixture exact;       // q(x_1..x_{d-1} | x_d = given)
  double exact_mean = 0.0, exact_std = 0.0;  // of its x_1
  double ks_critical = 0.0;    // the KS distance true samples of this size exceed with probability 1 %: 1.63/√n
  InpaintedCoordinate oracle;
  std::optional<InpaintedCoordinate> learned;
  torch::Tensor oracle_x1, learned_x1;  // float64 [n], for the figure (not serialised)
};

struct MixtureInpaintingOptions {
  int64_t samples = 1000;
  int64_t steps = 50, jump_length = 5, jump_n_sample = 20;  // RePaint's chain
  uint64_t seed = 0;
};

// Conditions on x_d = the last coordinate of component 0's mean (a value the data takes often). Needs d >= 2.
MixtureInpainting run_mixture_inpainting(const GaussianMixture& mixture, const Schedule& schedule,
                                         const std::optional<NoisePredictor>& learned, const MixtureInpaintingOptions& options);

nlohmann::json to_json(const MixtureInpainting& result);
std::string format_mixture_inpainting(const MixtureInpainting& result);
// Histograms of x_1 from each denoiser over the exact conditional density; returns the path written in `dir`.
std::string write_inpainting_figure(const MixtureInpainting& result, const std::string& dir);

}  // namespace ddpm
