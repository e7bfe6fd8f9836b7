// The U-Net's down, middle and up blocks (see unet_blocks.h). Downsampling is a 3×3 stride-2 conv; Ho et
// al.'s (diffusers' downsample_padding = 0, TensorFlow's "SAME" on even sizes) pads one zero row and column
// at the bottom/right only, diffusers' default (downsample_padding = 1) one on every side.
#include "ddpm/models/unet_blocks.h"

#include "ddpm/models/mixed_precision.h"

namespace ddpm {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

// Registers `module` as `<list_name>.0.<leaf>`, the diffusers key of a level's single resampler.
nn::Conv2d register_resampler(nn::Module& owner, const std::string& list_name, nn::Conv2d conv) {
  auto holder = std::make_shared<nn::Module>();
  holder->register_module("conv", conv);
  auto list = owner.register_module(list_name, nn::ModuleList());
  list->push_back(holder);
  return conv;
}

}  // namespace

LevelBlocks::LevelBlocks(nn::Module& owner, const LevelPlan& plan, const BlockSettings& s, size_t attention_count) {
  auto resnets = owner.register_module("resnets", nn::ModuleList());
  for (const auto& r : plan.resnets) {
    resnets_.emplace_back(ResnetBlockOptions{r.in_channels, r.out_channels, s.time_embed_dim, s.norm_groups,
                                             s.norm_eps, s.dropout});
    resnets->push_back(resnets_.back());
  }
  if (!plan.attention) return;
  auto attentions = owner.register_module("attentions", nn::ModuleList());
  for (size_t j = 0; j < attention_count; ++j) {
    attentions_.emplace_back(plan.channels, plan.heads, s.norm_groups, s.norm_eps);
    attentions->push_back(attentions_.back());
  }
}

torch::Tensor LevelBlocks::run_block(size_t j, const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = resnets_[j]->forward(x, temb);
  return attentions_.empty() ? h : attentions_[j]->forward(h);
}

DownBlockImpl::DownBlockImpl(const LevelPlan& plan, const BlockSettings& s)
    : LevelBlocks(*this, plan, s, plan.resnets.size()), pad_bottom_right_(s.downsample_padding == 0) {
  if (plan.resample)
    downsample = register_resampler(
        *this, "downsamplers",
        nn::Conv2d(nn::Conv2dOptions(plan.channels, plan.channels, 3).stride(2).padding(s.downsample_padding)));
}

torch::Tensor DownBlockImpl::forward(torch::Tensor x, const torch::Tensor& temb, std::vector<torch::Tensor>& skips) {
  for (size_t j = 0; j < resnets_.size(); ++j) {
    x = run_block(j, x, temb);
    skips.push_back(x);
  }
  if (downsample) {
    if (pad_bottom_right_) x = F::pad(x, F::PadFuncOptions({0, 1, 0, 1}));
    x = apply_conv(downsample, x);  // [B, C, H/2, W/2]
    skips.push_back(x);
  }
  return x;
}

// One attention block, between the two residual blocks.
MidBlockImpl::MidBlockImpl(const LevelPlan& plan, const BlockSettings& s) : LevelBlocks(*this, plan, s, 1) {}

torch::Tensor MidBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = resnets_[0]->forward(x, temb);
  if (!attentions_.empty()) h = attentions_[0]->forward(h);
  return resnets_[1]->forward(h, temb);
}

UpBlockImpl::UpBlockImpl(const LevelPlan& plan, const BlockSettings& s)
    : LevelBlocks(*this, plan, s, plan.resnets.size()) {
  if (plan.resample)
    upsample = register_resampler(*this, "upsamplers",
                                  nn::Conv2d(nn::Conv2dOptions(plan.channels, plan.channels, 3).padding(1)));
}

torch::Tensor UpBlockImpl::forward(torch::Tensor x, const torch::Tensor& temb, std::vector<torch::Tensor>& skips) {
  for (size_t j = 0; j < resnets_.size(); ++j) {
    x = run_block(j, torch::cat({x, skips.back()}, 1), temb);  // [B, C + C_skip, H, W] → [B, C, H, W]
    skips.pop_back();
  }
  if (upsample) {
    x = F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
    x = apply_conv(upsample, x);  // [B, C, 2H, 2W]
  }
  return x;
}

}  // namespace ddpm
