// The DDPM U-Net ε_θ(x_t, t) of Ho et al. 2020 (§4, Appendix B), laid out like diffusers' UNet2DModel
// so that weights map by name: conv_in, time_embedding.linear_{1,2}, down_blocks.N.{resnets,attentions,
// downsamplers}, mid_block.{resnets.0, attentions.0, resnets.1}, up_blocks.N.{resnets,attentions,
// upsamplers}, conv_norm_out, conv_out. Numeric details that layout fixes, and that this code follows so
// that an imported model is bit-compatible: GroupNorm eps 1e-6 (UNetConfig::norm_eps), sinusoid
// frequencies exp(-ln(10000) i / (half - 1)) (freq_shift 1) in [sin, cos] order (no flip), time MLP
// without a final activation, downsampling by zero-padding bottom/right then a 3×3 stride-2 conv
// (downsample_padding 0), nearest ×2 upsampling then 3×3 conv, attention scale 1/√C with one head.
// A class-conditional U-Net adds class_embedding (num_class_embeds = K + 1 rows) to the time embedding, as
// UNet2DModel does with class_embed_type None.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <vector>

#include "ddpm/models/model_config.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/models/timestep_embedding.h"
#include "ddpm/models/unet_blocks.h"

namespace ddpm {

class UNetImpl : public NoiseNetImpl {
 public:
  // `classes`: K for a class-conditional network, 0 for none. Throws std::invalid_argument on a bad config.
  explicit UNetImpl(const UNetConfig& config, int64_t classes = 0);
  // x_t: [B, C, H, W] with the configured C, H, W; t: int64 [B]; labels as NoiseNetImpl says → ε̂: [B, C, H, W]
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels = {}) override;
  const UNetConfig& config() const { return config_; }

 private:
  UNetConfig config_;
  int64_t time_input_dim_;
  TimestepEmbedding time_embedding{nullptr};
  torch::nn::Embedding class_embedding{nullptr};
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  std::vector<DownBlock> down_blocks_;
  MidBlock mid_block{nullptr};
  std::vector<UpBlock> up_blocks_;
  torch::nn::GroupNorm conv_norm_out{nullptr};
};

}  // namespace ddpm
