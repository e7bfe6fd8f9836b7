// The U-Net residual block with its time-embedding injection (see resnet_block.h).
#include "ddpm/models/resnet_block.h"

#include "ddpm/models/group_norm_silu.h"
#include "ddpm/models/mixed_precision.h"

namespace ddpm {

namespace nn = torch::nn;

ResnetBlockImpl::ResnetBlockImpl(const ResnetBlockOptions& o) : dropout_(o.dropout) {
  norm1 = register_module("norm1", nn::GroupNorm(nn::GroupNormOptions(o.norm_groups, o.in_channels).eps(o.norm_eps)));
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.out_channels, 3).padding(1)));
  time_emb_proj = register_module("time_emb_proj", nn::Linear(o.time_embed_dim, o.out_channels));
  norm2 = register_module("norm2", nn::GroupNorm(nn::GroupNormOptions(o.norm_groups, o.out_channels).eps(o.norm_eps)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(o.out_channels, o.out_channels, 3).padding(1)));
  if (o.in_channels != o.out_channels)
    conv_shortcut = register_module("conv_shortcut", nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.out_channels, 1)));
}

torch::Tensor ResnetBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = apply_conv(conv1, group_norm_silu(norm1, x));                              // [B, out, H, W]
  // The time-embedding projection, [B, 4 base] → [B, out], is fp32 like the embedding (unet.cpp), added in
  // h's precision.
  h = h + time_emb_proj(torch::silu(temb)).to(h.scalar_type()).unsqueeze(-1).unsqueeze(-1);  // + [B, out, 1, 1]
  h = apply_conv(conv2, group_norm_silu(norm2, h, dropout_, is_training()));
  return (conv_shortcut ? apply_conv(conv_shortcut, x) : x) + h;
}

}  // namespace ddpm
