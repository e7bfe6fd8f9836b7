// The U-Net's per-level blocks in diffusers' UNet2DModel layout: a down level (resnets, attentions,
// downsamplers.0), the middle block (resnets.0, attentions.0, resnets.1) and an up level (resnets,
// attentions, upsamplers.0). Each level is built from its LevelPlan (unet_plan.h).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <vector>

#include "ddpm/models/attention_block.h"
#include "ddpm/models/resnet_block.h"
#include "ddpm/models/unet_plan.h"

namespace ddpm {

// Settings shared by every block of one network.
struct BlockSettings {
  int64_t time_embed_dim;
  int64_t norm_groups;
  double norm_eps;
  double dropout;
  int64_t downsample_padding;  // UNetConfig::downsample_padding
};

// A level's residual blocks and, where the plan asks for attention, `attention_count` attention blocks
// (one after each residual block on the down/up path, one in the middle block).
class LevelBlocks {
 protected:
  LevelBlocks(torch::nn::Module& owner, const LevelPlan& plan, const BlockSettings& s, size_t attention_count);
  torch::Tensor run_block(size_t j, const torch::Tensor& x, const torch::Tensor& temb);  // resnet j, then attention j
  std::vector<ResnetBlock> resnets_;
  std::vector<AttentionBlock> attentions_;
};

class DownBlockImpl : public torch::nn::Module, LevelBlocks {
 public:
  DownBlockImpl(const LevelPlan& plan, const BlockSettings& s);
  // Appends each block's output (and the downsampler's) to `skips`; returns the level's output.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& temb, std::vector<torch::Tensor>& skips);

 private:
  torch::nn::Conv2d downsample{nullptr};  // stride 2, registered as downsamplers.0.conv
  bool pad_bottom_right_;
};
TORCH_MODULE(DownBlock);

class MidBlockImpl : public torch::nn::Module, LevelBlocks {
 public:
  MidBlockImpl(const LevelPlan& plan, const BlockSettings& s);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb);
};
TORCH_MODULE(MidBlock);

class UpBlockImpl : public torch::nn::Module, LevelBlocks {
 public:
  UpBlockImpl(const LevelPlan& plan, const BlockSettings& s);
  // Pops one skip activation per residual block from the back of `skips` and concatenates it.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& temb, std::vector<torch::Tensor>& skips);

 private:
  torch::nn::Conv2d upsample{nullptr};  // after nearest ×2, registered as upsamplers.0.conv
};
TORCH_MODULE(UpBlock);

}  // namespace ddpm
