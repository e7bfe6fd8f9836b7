// The U-Net's residual block (Ho et al. 2020, after Wide ResNet; diffusers `ResnetBlock2D`):
// GroupNorm → SiLU → conv3x3, + Linear(SiLU(time embedding)) per channel, GroupNorm → SiLU → dropout →
// conv3x3, and a 1×1 conv on the skip path when the channel count changes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>

namespace ddpm {

struct ResnetBlockOptions {
  int64_t in_channels;
  int64_t out_channels;
  int64_t time_embed_dim;
  int64_t norm_groups;
  double norm_eps;
  double dropout;
};

class ResnetBlockImpl : public torch::nn::Module {
 public:
  explicit ResnetBlockImpl(const ResnetBlockOptions& o);
  // x: [B, in, H, W], temb: [B, time_embed_dim] → [B, out, H, W]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb);

 private:
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_shortcut{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};
  double dropout_;  // probability (models/dropout.h)
};
TORCH_MODULE(ResnetBlock);

}  // namespace ddpm
