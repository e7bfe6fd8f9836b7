// Inpainting by RePaint (Lugmayr et al. 2022): the reverse chain fills the unknown part while the known part
// is re-drawn at every level from q(x_{t-1} | x_0) (their eq. 8), and "resampling" jumps back up the chain
// (one forward step q(x_t | x_{t-1}) at a time, Ho et al. eq. 2) so that the filled part can come into
// harmony with the known part before the chain goes on down (their Algorithm 1 and §4.2). Any model, any
// NoisePredictor: the step is Algorithm 2's, from core/reverse_process.h.
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

struct InpaintOptions {
  // The chain: ancestral only, on spec.steps respaced steps (0: all T), with spec's variance and clipping.
  SamplerSpec sampler;
  int64_t jump_length = 10;    // RePaint's j: levels gone back up in one jump
  int64_t jump_n_sample = 10;  // RePaint's r: times each stretch is run (1: no resampling)
};

// The chain's noise levels in visiting order, from K - 1 (x_T) to -1 (x_0), RePaint's time schedule: down
// one level at a time; at every level that is a multiple of jump_length below K - jump_length, jump back up
// jump_length levels, jump_n_sample - 1 times in all.
std::vector<int64_t> repaint_levels(int64_t K, int64_t jump_length, int64_t jump_n_sample);

// Network evaluations per sample (the downward moves of repaint_levels).
int64_t repaint_evaluations(int64_t K, int64_t jump_length, int64_t jump_n_sample);

// Fills where `keep` is 0 and keeps `known` where it is 1. known: the data with its known values ([B, ...]);
// keep: 0/1 of known's shape or broadcastable to it; x_T: the starting noise, known's shape. Returns x_0;
// the kept values come back exactly. Throws std::invalid_argument for a sampler other than ancestral, jump
// options below 1 or a keep mask that is not 0/1 or does not broadcast.
torch::Tensor inpaint(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& known,
                      const torch::Tensor& keep, torch::Tensor x_T, at::Generator& gen, const InpaintOptions& options,
                      const StepCallback& on_step = {});

}  // namespace ddpm
