// Records the generation process (Algorithm 2 of Ho et al. made visible): x_t and the predicted x_0 at about ten
// evenly spaced points of the reverse chain, for the first few samples of a batch.
#pragma once

#include <cstdint>
#include <vector>

#include "ddpm/core/noise_predictor.h"

namespace ddpm {

class TrajectoryRecorder {
 public:
  explicit TrajectoryRecorder(int64_t snapshots = 10, int64_t samples = 4);
  // Pass this to a sampler (it chains `next`, e.g. a progress bar, after recording). The snapshots are
  // spread over the total the sampler reports with each step, so every sampler's whole chain is covered
  // (Langevin's is levels × steps per level long, more than its number of noise levels).
  StepCallback callback(StepCallback next = {});
  // [snapshots, 2 * samples, ...]: for each snapshot, x_t then x̂_0 of every recorded sample.
  // Laid out for a grid with one column per snapshot: rows alternate x_t / x̂_0 per sample.
  torch::Tensor as_grid_batch() const;
  int64_t columns() const { return static_cast<int64_t>(x_.size()); }

 private:
  int64_t snapshots_, samples_;
  std::vector<int64_t> at_steps_;  // chosen at the first step, from its total
  std::vector<torch::Tensor> x_, x0_;
};

}  // namespace ddpm
