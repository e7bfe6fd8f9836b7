// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) driven by an ε-predictor: at each noise
// level t (from the most to the least noisy) take n steps of
//   x ← x + (α_t / 2) s(x, t) + √α_t z,   s = -ε_θ(x, t) / √(1 - ᾱ_t),
// where σ_t² = 1 - ᾱ_t is the level's noise variance. The step size is either Song & Ermon's
// α_t = ε · σ_t² / σ_L² (σ_L the smallest level), or set per sample and step from a signal-to-noise ratio r,
// ‖(α/2) s‖ / ‖√α z‖ = r, i.e. α = 4 r² ‖z‖² / ‖s‖² (the corrector of Song et al. 2021, Algorithm 5, whose
// ε is our α / 2). It is an MCMC sampler of each q(x_t) in turn, not a chain of Gaussians: its result
// depends on the step size and n, which ancestral sampling avoids. The chain ends at the least noisy level
// with noise of variance σ_L² left; the final denoising step (Song & Ermon 2020; Jolicoeur-Martineau et
// al. 2021) removes it with one more evaluation: the network's estimate of E[x_0 | x_t], Tweedie's formula
// (Ho et al. 2020 eq. 15).
#pragma once

#include <ATen/core/Generator.h>

#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct LangevinOptions {
  double epsilon = 2e-5;          // ε, the step size at the least noisy level (Song & Ermon's value)
  double snr = 0.0;               // r > 0: step sizes from this signal-to-noise ratio instead of ε
  int64_t steps_per_level = 10;   // n
  std::vector<int64_t> levels;    // ascending 0-based training steps; empty: every step 0..T-1
  bool final_denoise = true;      // one more evaluation: return x̂_0 of the last iterate, not the iterate
  bool clip_x0 = false;           // clip that x̂_0 to [-1, 1] (image data)
};

// Network evaluations per sample: levels × steps_per_level, plus one for the final denoising step.
int64_t langevin_evaluations(const LangevinOptions& options, int64_t T);

torch::Tensor langevin_sample(const Schedule& schedule, const NoisePredictor& model, torch::Tensor x_T,
                              at::Generator& gen, const LangevinOptions& options = {},
                              const StepCallback& on_step = {});

}  // namespace ddpm
