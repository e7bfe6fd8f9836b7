// Sinusoidal timestep embedding (Vaswani et al. 2017, as used by Ho et al. 2020) and the two-layer MLP
// that lifts it to the U-Net's embedding width. Numerics follow diffusers' `Timesteps`; Ho et al.'s
// settings (those of google/ddpm-cifar10-32) are flip_sin_to_cos = false, downscale_freq_shift = 1.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>

namespace ddpm {

// t: [B] step indices (any numeric dtype) → float32 [B, dim] = [sin(t ω_0..ω_{h-1}), cos(t ω_0..ω_{h-1})]
// ([cos, sin] with `flip_sin_to_cos`), h = dim / 2, ω_i = exp(-ln(10000) i / (h - freq_shift)); an odd dim
// gets a zero last column. Computed in float32 in diffusers' order of operations so that an imported model
// sees the same bits.
torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim, bool flip_sin_to_cos = false,
                                   int64_t freq_shift = 1);

// diffusers `TimestepEmbedding`: linear_1 → SiLU → linear_2 (no activation after linear_2; each
// residual block applies its own SiLU before projecting).
class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_dim, int64_t embed_dim);
  torch::Tensor forward(const torch::Tensor& sinusoid);  // [B, in_dim] → [B, embed_dim]

 private:
  torch::nn::Linear linear_1{nullptr}, linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

}  // namespace ddpm
