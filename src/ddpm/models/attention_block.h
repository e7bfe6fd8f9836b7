// Spatial self-attention with a residual connection (Ho et al. 2020, one head; diffusers `Attention` as
// built by UNet2DModel): GroupNorm, q/k/v/out linear projections over the H·W positions, and per head
// softmax(q kᵀ / √d) v over its d = C / heads contiguous channels. Submodules use diffusers' current names: group_norm, to_q,
// to_k, to_v, to_out.0 (older checkpoints call them query, key, value, proj_attn).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>

namespace ddpm {

class AttentionBlockImpl : public torch::nn::Module {
 public:
  AttentionBlockImpl(int64_t channels, int64_t heads, int64_t norm_groups, double norm_eps);
  torch::Tensor forward(const torch::Tensor& x);  // [B, C, H, W] → [B, C, H, W]

 private:
  int64_t heads_;
  torch::nn::GroupNorm group_norm{nullptr};
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr}, to_out_0{nullptr};
};
TORCH_MODULE(AttentionBlock);

// softmax(q kᵀ / √d) v for q, k, v: [B, N, d]. Uses the fused kernel where LibTorch has one (2.x),
// otherwise two batched matrix products (LibTorch 1.13).
torch::Tensor scaled_dot_product(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

}  // namespace ddpm
