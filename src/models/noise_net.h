// The common interface of every noise-prediction network ε_θ(x_t, t) (Ho et al. 2020, §3.2 and eq. 11).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>

namespace ddpm {

class NoiseNetImpl : public torch::nn::Module {
 public:
  // x_t: [B, ...] (images [B, C, H, W]; points [B, d]); t: int64 [B], 0-based step indices.
  // Returns ε̂ with x_t's shape.
  virtual torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t) = 0;
};

using NoiseNet = std::shared_ptr<NoiseNetImpl>;

}  // namespace ddpm
