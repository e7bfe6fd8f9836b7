// The whole Gaussian-mixture experiment as `ddpm gmm` and `ddpm demo` run it: train the MLP on the
// mixture (Algorithm 1, into OUT/model; a finished run there is reused), measure it beside the exact
// denoiser (run_gmm_experiment), and write OUT/report.json and the figures.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ddpm/experiments/gmm_classes.h"
#include "ddpm/experiments/gmm_experiment.h"
#include "ddpm/experiments/gmm_inpainting.h"

namespace ddpm {

struct GmmRunOptions {
  GmmExperimentConfig config;
  std::string out;             // created if missing; an existing one must be empty unless `replace`
  bool replace = false;        // write into a folder that holds files (replacing those of the same names)
  bool figures = true;
  int64_t train_steps = 4000;  // 0: the exact denoiser only
  // The components as classes: a class-conditional MLP (label dropout 0.1) and classifier-free guidance beside
  // the exact class denoiser (experiments/gmm_classes.h); the other parts measure its unconditional side.
  bool conditional = false;
  ClassGuidanceOptions classes;
  MixtureInpaintingOptions inpainting;  // RePaint against the exact conditional (experiments/gmm_inpainting.h)
};

struct GmmRunResult {
  GmmReport report;
  std::vector<ClassGuidanceRow> classes;  // with GmmRunOptions::conditional
  std::optional<MixtureInpainting> inpainting;  // for mixtures of 2 or more dimensions
  nlohmann::json json;  // to_json(report) plus "inpainting", "figures" (and "classes")
  std::string report_path;
  std::vector<std::string> figures;
};

GmmRunResult run_gmm(const GmmRunOptions& options);

}  // namespace ddpm
