// Derives and validates the U-Net's shape plan (see unet_plan.h). The up path pops the skip activations
// stored by the down path (conv_in's output, each residual block's output and each downsampler's
// output), which gives diffusers' UNet2DModel channel counts.
#include "ddpm/models/unet_plan.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/ranges.h>

namespace ddpm {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("unet config: " + message);
}

void check_sizes(const UNetConfig& c) {
  const auto levels = static_cast<int64_t>(c.channel_mult.size());
  for (const auto& [name, size] : {std::pair{"image_height", c.image_height}, std::pair{"image_width", c.image_width}}) {
    int64_t s = size;
    for (int64_t level = 0; level + 1 < levels; ++level, s /= 2)
      require(s % 2 == 0, fmt::format("{} {} cannot be halved at level {} (size {} is odd); with {} levels it must "
                                      "be divisible by 2^{} = {}",
                                      name, size, level, s, levels, levels - 1, int64_t{1} << (levels - 1)));
  }
}

// Upper limits far above any useful U-Net (Ho et al.'s largest: 256x256, 128 channels x 4, 2 blocks per
// level, 6 levels), so that sizes read from a corrupt file are refused before any count or allocation.
constexpr int64_t kMaxImageSide = 16384, kMaxChannels = 8192, kMaxLevels = 16, kMaxResBlocks = 64;

void require_in(const char* field, int64_t value, int64_t max) {
  require(value >= 1 && value <= max, fmt::format("{} must be from 1 to {}, got {}", field, max, value));
}

void check_fields(const UNetConfig& c) {
  require_in("in_channels", c.in_channels, kMaxChannels);
  require_in("image_height", c.image_height, kMaxImageSide);
  require_in("image_width", c.image_width, kMaxImageSide);
  require_in("base_channels", c.base_channels, kMaxChannels);
  require(!c.channel_mult.empty(), "channel_mult must list at least one level");
  require(static_cast<int64_t>(c.channel_mult.size()) <= kMaxLevels,
          fmt::format("channel_mult may list at most {} levels, got {}", kMaxLevels, c.channel_mult.size()));
  for (auto m : c.channel_mult) require_in("every channel_mult entry", m, kMaxChannels / c.base_channels);
  require_in("num_res_blocks", c.num_res_blocks, kMaxResBlocks);
  require(c.dropout >= 0.0 && c.dropout < 1.0, fmt::format("dropout must be in [0, 1), got {}", c.dropout));
  require(c.norm_groups >= 1, fmt::format("norm_groups must be >= 1, got {}", c.norm_groups));
  require(c.norm_eps > 0.0 && std::isfinite(c.norm_eps), fmt::format("norm_eps must be a finite number > 0, got {}", c.norm_eps));
  require(c.attention_head_dim >= 0 && c.attention_head_dim <= kMaxChannels,
          fmt::format("attention_head_dim must be from 0 (one head) to {}, got {}", kMaxChannels, c.attention_head_dim));
  require(c.freq_shift == 0 || c.freq_shift == 1, fmt::format("freq_shift must be 0 or 1, got {}", c.freq_shift));
  require(c.base_channels / 2 - c.freq_shift > 0,
          fmt::format("base_channels {} is too few for the sinusoid with freq_shift {}", c.base_channels, c.freq_shift));
  require(c.downsample_padding == 0 || c.downsample_padding == 1,
          fmt::format("downsample_padding must be 0 or 1, got {}", c.downsample_padding));
  for (auto m : c.channel_mult)
    require((c.base_channels * m) % c.norm_groups == 0,
            fmt::format("norm_groups {} must divide every level's channels, but base_channels {} x {} = {}",
                        c.norm_groups, c.base_channels, m, c.base_channels * m));
}

// Attention heads at a level of `channels` channels: `attention_head_dim` channels each, or one head.
int64_t attention_heads(const UNetConfig& c, int64_t channels) {
  if (c.attention_head_dim == 0) return 1;
  require(channels % c.attention_head_dim == 0,
          fmt::format("attention_head_dim {} must divide the channels {} of every level with attention",
                      c.attention_head_dim, channels));
  return channels / c.attention_head_dim;
}

}  // namespace

UNetPlan plan_unet(const UNetConfig& c) {
  check_fields(c);
  check_sizes(c);
  const auto levels = static_cast<int64_t>(c.channel_mult.size());
  const auto has_attention = [&](int64_t h, int64_t w) {
    const auto& r = c.attention_resolutions;
    return std::find(r.begin(), r.end(), std::min(h, w)) != r.end();
  };

  UNetPlan plan;
  plan.time_input_dim = c.base_channels;
  plan.time_embed_dim = 4 * c.base_channels;

  std::vector<int64_t> skips = {c.base_channels};  // conv_in's output
  std::vector<int64_t> level_sizes;
  int64_t h = c.image_height, w = c.image_width, channels = c.base_channels;
  for (int64_t level = 0; level < levels; ++level) {
    const int64_t width = c.base_channels * c.channel_mult[level];
    const bool attention = has_attention(h, w);
    LevelPlan p{h, w, width, {}, attention, attention ? attention_heads(c, width) : 1, level + 1 < levels};
    for (int64_t j = 0; j < c.num_res_blocks; ++j) {
      p.resnets.push_back({channels, p.channels});
      channels = p.channels;
      skips.push_back(channels);
    }
    if (p.resample) skips.push_back(channels);
    level_sizes.push_back(std::min(h, w));
    plan.down.push_back(p);
    if (p.resample) h /= 2, w /= 2;
  }
  for (auto r : c.attention_resolutions)
    require(std::find(level_sizes.begin(), level_sizes.end(), r) != level_sizes.end(),
            fmt::format("attention_resolutions lists {}, but the levels' sizes min(H, W) are {}", r,
                        fmt::join(level_sizes, ", ")));

  plan.mid = {h,     w, channels, {{channels, channels}, {channels, channels}}, c.mid_attention,
              c.mid_attention ? attention_heads(c, channels) : 1, false};

  for (int64_t level = levels - 1; level >= 0; --level) {
    const auto& d = plan.down[level];
    LevelPlan p{d.height, d.width, d.channels, {}, d.attention, d.heads, level > 0};
    for (int64_t j = 0; j <= c.num_res_blocks; ++j) {
      p.resnets.push_back({channels + skips.back(), p.channels});
      skips.pop_back();
      channels = p.channels;
    }
    plan.up.push_back(p);
  }
  return plan;
}

}  // namespace ddpm
