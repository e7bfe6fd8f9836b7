// `ddpm demo`, the README's main job: what ddpm does, in a few minutes on 2 cores. It samples the shipped
// Fashion-MNIST model (the class-conditional one, a row per class) fast (DDIM) and by Algorithm 2 (ancestral, with the generation trajectory), runs the
// seed's two-mode Gaussian-mixture experiment, and writes the pictures and a summary saying what each shows.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ddpm/inference/generate.h"

namespace ddpm {

struct DemoOptions {
  std::string model = "fashion-classes";  // shipped name, model file or run folder
  std::string out = "out/demo";   // created if missing; an existing one must be empty unless `replace`
  bool replace = false;           // write into a folder that holds files (replacing those of the same names)
  uint64_t seed = 0;
  // Images in the DDIM grid and drawn by Algorithm 2; a class-conditional model's are spread over its classes,
  // one grid row per class (at least one image each), drawn with classifier-free guidance `guidance`.
  int64_t grid = 80;
  int64_t ddim_steps = kFastSamplerSteps;
  int64_t ancestral_n = 10;
  std::optional<double> guidance;  // a conditional model's (unset: 0.5); an unconditional model refuses one
  int64_t ancestral_steps = 1000;  // Algorithm 2 over every t of the model's schedule (T = 1000)
  std::string precision = "auto";  // of the network's products (runtime/precision.h), chosen for the model
  bool gmm = true;
  int64_t gmm_train_steps = 4000;
};

struct DemoFile {
  std::string path;
  std::string what;  // one line: what the file shows
};

struct DemoResult {
  std::vector<DemoFile> files;
  std::string summary_path;  // summary.md: the files and the figures measured
  double seconds = 0.0;
};

// `log` receives one line per stage as it starts and ends.
DemoResult run_demo(const DemoOptions& options, const std::function<void(const std::string&)>& log);

}  // namespace ddpm
