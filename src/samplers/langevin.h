// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) driven by an ε-predictor: at each noise
// level t (from the most to the least noisy) take n steps of
//   x ← x + (α_t / 2) s(x, t) + √α_t z,   s = -ε_θ(x, t) / √(1 - ᾱ_t),   α_t = ε · σ_t² / σ_L²,
// where σ_t² = 1 - ᾱ_t is the level's noise variance and σ_L the smallest one. It is an MCMC sampler of each
// q(x_t) in turn, not a chain of Gaussians: its result depends on ε and n, which ancestral sampling avoids.
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "core/noise_predictor.h"
#include "core/schedule.h"

namespace ddpm {

struct LangevinOptions {
  double epsilon = 2e-5;          // ε, the step size at the least noisy level (Song & Ermon's value)
  int64_t steps_per_level = 10;   // n
  std::vector<int64_t> levels;    // ascending 0-based training steps; empty: every step 0..T-1
};

// Network evaluations: levels × steps_per_level. Returns the last iterate (no final denoising step).
torch::Tensor langevin_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T,
                              at::Generator& gen, const LangevinOptions& options = {},
                              const StepCallback& on_step = {});

}  // namespace ddpm
