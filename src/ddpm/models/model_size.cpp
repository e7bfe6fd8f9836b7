// Parameter counts and activation memory from the shape plan (see model_size.h), one pair of functions per
// model kind (rows of model_kind.h). The counts follow the modules one by one (resnet_block.cpp,
// attention_block.cpp, unet_blocks.cpp, unet.cpp, mlp.cpp); ModelSize.PlannedCountMatchesTheBuiltNetwork
// keeps them equal.
#include "ddpm/models/model_size.h"

#include <algorithm>
#include <stdexcept>

#include "ddpm/models/mlp.h"
#include "ddpm/models/model_kind.h"
#include "ddpm/models/unet_plan.h"

namespace ddpm {
namespace {

constexpr int64_t kFloatBytes = 4;

int64_t linear(int64_t in, int64_t out) { return in * out + out; }
int64_t conv(int64_t in, int64_t out, int64_t k) { return in * out * k * k + out; }
int64_t group_norm(int64_t channels) { return 2 * channels; }
int64_t class_embedding(int64_t classes, int64_t dim) { return classes > 0 ? (classes + 1) * dim : 0; }  // + null

int64_t resnet(const ResnetPlan& r, int64_t time_embed_dim) {
  int64_t n = group_norm(r.in_channels) + conv(r.in_channels, r.out_channels, 3) +
              linear(time_embed_dim, r.out_channels) + group_norm(r.out_channels) +
              conv(r.out_channels, r.out_channels, 3);
  if (r.in_channels != r.out_channels) n += conv(r.in_channels, r.out_channels, 1);
  return n;
}

int64_t attention(int64_t c) { return group_norm(c) + 4 * linear(c, c); }  // q, k, v, out

int64_t level(const LevelPlan& l, size_t attentions, int64_t time_embed_dim) {
  int64_t n = 0;
  for (const auto& r : l.resnets) n += resnet(r, time_embed_dim);
  if (l.attention) n += static_cast<int64_t>(attentions) * attention(l.channels);
  if (l.resample) n += conv(l.channels, l.channels, 3);
  return n;
}

}  // namespace

int64_t unet_parameters(const UNetConfig& c, int64_t classes) {
  const UNetPlan p = plan_unet(c);
  int64_t n = conv(c.in_channels, c.base_channels, 3) + linear(p.time_input_dim, p.time_embed_dim) +
              linear(p.time_embed_dim, p.time_embed_dim) + class_embedding(classes, p.time_embed_dim);
  for (const auto& l : p.down) n += level(l, l.resnets.size(), p.time_embed_dim);
  n += level(p.mid, 1, p.time_embed_dim);
  for (const auto& l : p.up) n += level(l, l.resnets.size(), p.time_embed_dim);
  return n + group_norm(c.base_channels) + conv(c.base_channels, c.in_channels, 3);
}

namespace {

// Values per sample: a residual block keeps its input, normalised and activated input, and five maps
// of its output width for backward; an attention block its q, k, v, output and the N×N scores (per head) twice.
int64_t block_values(const ResnetPlan& r, int64_t hw) { return hw * (3 * r.in_channels + 6 * r.out_channels); }
int64_t attention_values(int64_t c, int64_t heads, int64_t hw) { return hw * 6 * c + 2 * heads * hw * hw; }

int64_t unet_activation_values(const UNetConfig& c, bool training) {
  const UNetPlan p = plan_unet(c);
  int64_t kept = 0, skips = 0, widest = 0;
  const auto visit = [&](const LevelPlan& l, size_t attentions, bool down) {
    const int64_t hw = l.height * l.width;
    for (const auto& r : l.resnets) {
      kept += block_values(r, hw);
      widest = std::max(widest, block_values(r, hw));
      if (down) skips += hw * r.out_channels;
    }
    if (l.attention) {
      kept += static_cast<int64_t>(attentions) * attention_values(l.channels, l.heads, hw);
      widest = std::max(widest, attention_values(l.channels, l.heads, hw));
    }
  };
  for (const auto& l : p.down) visit(l, l.resnets.size(), true);
  visit(p.mid, 1, false);
  for (const auto& l : p.up) visit(l, l.resnets.size(), false);
  return training ? kept : skips + widest;
}

}  // namespace

int64_t unet_activation_bytes(const UNetConfig& c, bool training) {
  return kFloatBytes * unet_activation_values(c, training);
}

int64_t mlp_parameters(const MLPConfig& m, int64_t classes) {
  check_mlp_config(m);
  return linear(m.data_dim + m.time_embed_dim, m.hidden) + (m.depth - 1) * linear(m.hidden, m.hidden) +
         linear(m.hidden, m.data_dim) + class_embedding(classes, m.time_embed_dim);
}

int64_t mlp_activation_bytes(const MLPConfig& m, bool training) {
  check_mlp_config(m);
  const int64_t widths = m.data_dim + m.time_embed_dim + m.depth * m.hidden;
  return kFloatBytes * (training ? 3 * widths : 2 * std::max(m.hidden, m.data_dim + m.time_embed_dim));
}

int64_t planned_parameter_count(const ModelConfig& config) { return model_kind(config.arch).parameters(config); }

int64_t activation_bytes_per_sample(const ModelConfig& config, bool training) {
  return model_kind(config.arch).activation_bytes(config, training);
}

}  // namespace ddpm
