// Forward FLOPs per sample, counted from the architecture: convolutions, linear layers and the two
// attention products, a multiply-add counting 2 FLOPs. Biases, normalisation, activations, softmax,
// residual additions and resampling copies are not counted (they are O(size), not O(size × channels)).
#include "ddpm/models/model_kind.h"
#include "ddpm/models/unet_plan.h"

namespace ddpm {
namespace {

int64_t linear(int64_t in, int64_t out) { return 2 * in * out; }
int64_t conv(int64_t in, int64_t out, int64_t k, int64_t h_out, int64_t w_out) {
  return 2 * in * out * k * k * h_out * w_out;
}

int64_t resnet(const ResnetPlan& r, int64_t h, int64_t w, int64_t time_embed_dim) {
  int64_t f = conv(r.in_channels, r.out_channels, 3, h, w) + linear(time_embed_dim, r.out_channels) +
              conv(r.out_channels, r.out_channels, 3, h, w);
  if (r.in_channels != r.out_channels) f += conv(r.in_channels, r.out_channels, 1, h, w);
  return f;
}

// q, k, v, out projections over N = h·w positions, then q kᵀ and (softmax) v: N × N × C each.
int64_t attention(int64_t c, int64_t h, int64_t w) {
  const int64_t n = h * w;
  return 4 * n * linear(c, c) + 2 * (2 * n * n * c);
}

int64_t level(const LevelPlan& l, size_t attentions, int64_t time_embed_dim) {
  int64_t f = 0;
  for (const auto& r : l.resnets) f += resnet(r, l.height, l.width, time_embed_dim);
  if (l.attention) f += static_cast<int64_t>(attentions) * attention(l.channels, l.height, l.width);
  return f;
}

}  // namespace

int64_t unet_flops(const UNetConfig& c) {
  const UNetPlan p = plan_unet(c);
  const int64_t H = c.image_height, W = c.image_width, T = p.time_embed_dim;
  int64_t f = linear(p.time_input_dim, T) + linear(T, T);
  f += conv(c.in_channels, c.base_channels, 3, H, W);  // conv_in
  for (const auto& l : p.down) {
    f += level(l, l.resnets.size(), T);
    if (l.resample) f += conv(l.channels, l.channels, 3, l.height / 2, l.width / 2);
  }
  f += level(p.mid, 1, T);
  for (const auto& l : p.up) {
    f += level(l, l.resnets.size(), T);
    if (l.resample) f += conv(l.channels, l.channels, 3, l.height * 2, l.width * 2);
  }
  return f + conv(c.base_channels, c.in_channels, 3, H, W);  // conv_out
}

int64_t mlp_flops(const MLPConfig& c) {
  int64_t f = linear(c.data_dim + c.time_embed_dim, c.hidden);
  f += (c.depth - 1) * linear(c.hidden, c.hidden);
  return f + linear(c.hidden, c.data_dim);
}

int64_t forward_flops_per_sample(const ModelConfig& config) { return model_kind(config.arch).flops(config); }

}  // namespace ddpm
