// A time-conditioned MLP ε_θ(x_t, t) for d-dimensional point data (the Gaussian-mixture experiments):
// concat(x_t, sinusoidal embedding of t) → depth × (Linear → SiLU) → Linear back to d. A class-conditional
// MLP adds class_embedding (K + 1 rows, as the U-Net's) to the sinusoidal embedding.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "ddpm/models/model_config.h"
#include "ddpm/models/noise_net.h"

namespace ddpm {

// Throws std::invalid_argument naming the field outside its range: every size from 1 (time_embed_dim
// from 4) to a limit far above any useful MLP (width 65,536, depth 256), so that a size from a corrupt
// file is refused before anything is allocated.
void check_mlp_config(const MLPConfig& config);

class MLPImpl : public NoiseNetImpl {
 public:
  // `classes`: K for a class-conditional network, 0 for none. Throws std::invalid_argument on a bad config.
  explicit MLPImpl(const MLPConfig& config, int64_t classes = 0);
  // x_t: [B, d], t: int64 [B], labels as NoiseNetImpl says → ε̂: [B, d]
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels = {}) override;

 private:
  MLPConfig config_;
  torch::nn::Embedding class_embedding{nullptr};
  std::vector<torch::nn::Linear> hidden_;  // registered as layers.0 .. layers.{depth-1}
  torch::nn::Linear out{nullptr};
};

}  // namespace ddpm
