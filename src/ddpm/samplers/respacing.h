// Sampling on a subsequence τ_1 < ... < τ_K of the T training steps (improved-diffusion's respacing):
// the respaced chain keeps ᾱ'_k = ᾱ_{τ_k} and re-derives β'_k = 1 - ᾱ'_k / ᾱ'_{k-1}, so its "previous"
// step is τ_{k-1}, the previous *respaced* step — not τ_k - 1, the bug that once made diffusers emit noise.
// Timesteps are 0-based indices into the training schedule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/core/schedule.h"

namespace ddpm {

// How K of the T steps are chosen, by diffusers' names and formulas (its set_timesteps), each ascending:
//  leading:  0, ⌊T/K⌋, 2⌊T/K⌋, ...            (starts at the first step, may never reach the last)
//  trailing: round(T - j·T/K) - 1 for j < K    (always includes the last step T - 1)
//  linspace: round(linspace(0, T - 1, K))     (includes both ends)
// with rounding halves to even, as numpy does.
std::vector<std::string> timestep_spacings();
std::vector<int64_t> spaced_timesteps(int64_t T, int64_t K, const std::string& spacing);

// Throws std::invalid_argument, naming `who` and the offending pair, unless `timesteps` increase strictly
// within [0, T): every sampler on a subsequence of the training steps checks its steps with this.
void check_timesteps(const std::vector<int64_t>& timesteps, int64_t T, const std::string& who);

struct RespacedSchedule {
  Schedule schedule;                     // K steps; entry k belongs to training step timesteps[k]
  std::vector<int64_t> model_timesteps;  // τ_k, for AncestralOptions::model_timesteps
};

// `timesteps` strictly increasing, within [0, T). Consecutive training steps keep their own β, so the
// full sequence 0..T-1 reproduces `schedule` bit for bit.
RespacedSchedule respace(const Schedule& schedule, const std::vector<int64_t>& timesteps);

}  // namespace ddpm
