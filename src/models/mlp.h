// A time-conditioned MLP ε_θ(x_t, t) for d-dimensional point data (the Gaussian-mixture experiments):
// concat(x_t, sinusoidal embedding of t) → depth × (Linear → SiLU) → Linear back to d.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "models/model_config.h"
#include "models/noise_net.h"

namespace ddpm {

class MLPImpl : public NoiseNetImpl {
 public:
  explicit MLPImpl(const MLPConfig& config);  // throws std::invalid_argument on a bad config
  // x_t: [B, d], t: int64 [B] → ε̂: [B, d]
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t) override;

 private:
  MLPConfig config_;
  std::vector<torch::nn::Linear> hidden_;  // registered as layers.0 .. layers.{depth-1}
  torch::nn::Linear out{nullptr};
};

}  // namespace ddpm
