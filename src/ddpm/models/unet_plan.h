// The shape plan of a U-Net: every level's feature-map size, every residual block's channel counts and
// where attention and resampling sit, derived once from a UNetConfig. The module builder (unet.cpp) and
// the FLOP counter (flops.cpp) both read it, so they cannot disagree about the architecture.
#pragma once

#include <cstdint>
#include <vector>

#include "ddpm/models/model_config.h"

namespace ddpm {

struct ResnetPlan {
  int64_t in_channels;   // including the concatenated skip channels on the up path
  int64_t out_channels;
};

struct LevelPlan {
  int64_t height, width;           // feature-map size inside the level
  int64_t channels;                // every block's output channels
  std::vector<ResnetPlan> resnets;
  bool attention;                  // an attention block after each residual block
  int64_t heads;                   // its heads (1 without attention)
  bool resample;                   // down path: stride-2 conv at the end; up path: ×2 upsampling at the end
};

struct UNetPlan {
  int64_t time_input_dim;  // sinusoid width = base channels
  int64_t time_embed_dim;  // 4 × base channels
  std::vector<LevelPlan> down;  // down_blocks.0 .. (finest first)
  LevelPlan mid;                // two residual blocks, attention between them if mid_attention
  std::vector<LevelPlan> up;    // up_blocks.0 .. (coarsest first), num_res_blocks + 1 blocks each
};

// Validates the config (throws std::invalid_argument naming the field, or the size and level that
// cannot be halved) and lays out the architecture the way diffusers' UNet2DModel does.
UNetPlan plan_unet(const UNetConfig& config);

}  // namespace ddpm
