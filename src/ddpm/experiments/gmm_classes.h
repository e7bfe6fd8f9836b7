// The class-conditional part of `ddpm gmm --conditional`: the mixture's components as classes, sampled with
// classifier-free guidance (Ho & Salimans 2021) by the exact class denoiser (analytic/gaussian_mixture.h's
// mixture_class_predictor) and by a learned conditional network, side by side, per class and guidance weight.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct ClassSamples {
  double share = 0.0;           // of the samples nearest (most responsible) to the class's own component
  std::vector<double> mean;     // of the samples
  double distance = 0.0;        // sliced W2 to a true sample of the class's component (its law at w = 0)
};

struct ClassGuidanceRow {
  int64_t label = 0;
  double guidance = 0.0;
  ClassSamples oracle;
  std::optional<ClassSamples> learned;
  torch::Tensor oracle_samples, learned_samples;  // [n, d] float32, for the figure (not serialised)
};

struct ClassGuidanceOptions {
  std::vector<double> guidance = {0.0, 1.0, 3.0};
  int64_t samples = 2000;  // per class and weight (`ddpm gmm`: at most its --n)
  int64_t steps = 100;     // DDIM steps (η = 0)
  int64_t projections = 256;
  uint64_t seed = 0;
};

// Every class of `mixture` at every weight. `learned` (optional) is a conditional network over the same classes.
std::vector<ClassGuidanceRow> run_class_guidance(const GaussianMixture& mixture, const Schedule& schedule,
                                                 const std::optional<ClassNoisePredictor>& learned,
                                                 const ClassGuidanceOptions& options);

nlohmann::json to_json(const std::vector<ClassGuidanceRow>& rows);
std::string format_class_guidance(const std::vector<ClassGuidanceRow>& rows);
// The samples, one panel per (denoiser, weight), coloured by class; returns the path written in `dir`.
std::string write_class_guidance_figure(const std::vector<ClassGuidanceRow>& rows, const std::string& dir);

}  // namespace ddpm
