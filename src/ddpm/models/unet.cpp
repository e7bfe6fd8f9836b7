// The DDPM U-Net: sinusoidal time embedding, down path storing skips, middle block, up path
// concatenating them, output head (see unet.h for the layout and its numeric conventions).
#include "ddpm/models/unet.h"

#include "ddpm/models/group_norm_silu.h"
#include "ddpm/models/mixed_precision.h"
#include "ddpm/models/unet_plan.h"

namespace ddpm {

namespace nn = torch::nn;

UNetImpl::UNetImpl(const UNetConfig& config, int64_t classes) : NoiseNetImpl(classes), config_(config) {
  const UNetPlan plan = plan_unet(config);
  const BlockSettings s{plan.time_embed_dim, config.norm_groups, config.norm_eps, config.dropout,
                        config.downsample_padding};
  const int64_t C = config.in_channels, base = config.base_channels;
  time_input_dim_ = plan.time_input_dim;

  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(C, base, 3).padding(1)));
  time_embedding = register_module("time_embedding", TimestepEmbedding(plan.time_input_dim, plan.time_embed_dim));
  if (classes > 0)
    class_embedding = register_module("class_embedding", nn::Embedding(classes + 1, plan.time_embed_dim));
  auto down = register_module("down_blocks", nn::ModuleList());
  for (const auto& level : plan.down) {
    down_blocks_.emplace_back(level, s);
    down->push_back(down_blocks_.back());
  }
  mid_block = register_module("mid_block", MidBlock(plan.mid, s));
  auto up = register_module("up_blocks", nn::ModuleList());
  for (const auto& level : plan.up) {
    up_blocks_.emplace_back(level, s);
    up->push_back(up_blocks_.back());
  }
  conv_norm_out = register_module(
      "conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(config.norm_groups, base).eps(config.norm_eps)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(base, C, 3).padding(1)));
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels) {
  TORCH_CHECK(x_t.dim() == 4 && x_t.size(1) == config_.in_channels && x_t.size(2) == config_.image_height &&
                  x_t.size(3) == config_.image_width,
              "UNet: expected x_t of shape [B, ", config_.in_channels, ", ", config_.image_height, ", ",
              config_.image_width, "], got ", x_t.sizes());
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x_t.size(0), "UNet: expected t of shape [", x_t.size(0), "], got ",
              t.sizes());
  // The time embedding's two small products stay fp32 in every precision: [B, 4 base] is too little work to
  // pay for the casts.
  auto temb = time_embedding(sinusoidal_embedding(t, time_input_dim_, config_.flip_sin_to_cos, config_.freq_shift).to(x_t.dtype()));  // [B, 4 base]
  if (auto c = class_embedding_of(class_embedding, classes(), labels, x_t.size(0), "UNet"); c.defined()) temb = temb + c;

  auto h = apply_conv(conv_in, x_t);  // [B, base, H, W]
  std::vector<torch::Tensor> skips = {h};
  for (auto& block : down_blocks_) h = block->forward(h, temb, skips);
  h = mid_block->forward(h, temb);
  for (auto& block : up_blocks_) h = block->forward(h, temb, skips);
  // fp32 and [B, C, H, W] in memory whatever the layout inside (channels-last on the CPU: mixed_precision.h).
  const auto out = apply_conv(conv_out, group_norm_silu(conv_norm_out, h));
  return out.to(torch::kFloat32, false, false, at::MemoryFormat::Contiguous);
}

}  // namespace ddpm
