// UNet2DModel's config.json ↔ ddpm's UNetConfig. diffusers' defaults (UNet2DModel.__init__) apply to
// missing keys; the keys that do not change the numbers (sample_size aside) are not read.
#include <fmt/ranges.h>

#include "ddpm/interop/diffusers.h"
#include "ddpm/interop/diffusers_config.h"
#include "ddpm/models/unet_plan.h"

namespace ddpm {
namespace {

using nlohmann::json;

// Block names as diffusers' get_down_block/get_up_block read them (a "UNetRes" prefix is dropped).
std::string block_name(std::string name) {
  const std::string prefix = "UNetRes";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// Whether each level's block has attention; any block ddpm does not build is refused by name.
std::vector<bool> attention_levels(const DiffusersConfig& c, const std::string& key, const json& fallback,
                                   const std::string& plain, const std::string& attention) {
  std::vector<bool> levels;
  for (const auto& name : c.get<std::vector<std::string>>(key, fallback)) {
    const auto block = block_name(name);
    if (block != plain && block != attention)
      throw c.error(key, fmt::format("lists {}: ddpm builds {} and {} only (Ho et al.'s U-Net)", name, plain, attention));
    levels.push_back(block == attention);
  }
  return levels;
}

// Refuses `key` unless diffusers' value for it is `expected` (a setting ddpm's U-Net does not have).
void require_value(const DiffusersConfig& c, const std::string& key, const json& fallback, const json& expected,
                   const std::string& why) {
  if (c.value(key, fallback) != expected) throw c.error(key, "is not supported: " + why);
}

}  // namespace

ModelConfig model_config_from_diffusers(const json& config, const std::string& file,
                                        const std::vector<std::string>& class_names) {
  const DiffusersConfig c(config, file);
  const auto name = c.get<std::string>("_class_name", "UNet2DModel");
  if (name != "UNet2DModel") throw c.error("_class_name", "is not UNet2DModel, the only network ddpm reads");

  ModelConfig m;
  auto& u = m.unet;
  const auto widths = c.get<std::vector<int64_t>>("block_out_channels", {224, 448, 672, 896});
  if (widths.empty() || widths[0] < 1) throw c.error("block_out_channels", "must list positive widths");
  u.base_channels = widths[0];
  u.channel_mult.clear();
  for (auto w : widths) {
    if (w % widths[0] != 0)
      throw c.error("block_out_channels", "is not supported: every width must be a multiple of the first");
    u.channel_mult.push_back(w / widths[0]);
  }
  const auto down = attention_levels(c, "down_block_types",
                                     {"DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"},
                                     "DownBlock2D", "AttnDownBlock2D");
  const auto up = attention_levels(c, "up_block_types", {"AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"},
                                   "UpBlock2D", "AttnUpBlock2D");
  if (down.size() != widths.size() || up.size() != widths.size())
    throw c.error("down_block_types", fmt::format("and up_block_types must list one block per block_out_channels "
                                                  "entry ({}), they list {} and {}",
                                                  widths.size(), down.size(), up.size()));
  for (size_t i = 0; i < down.size(); ++i)
    if (down[i] != up[down.size() - 1 - i])
      throw c.error("up_block_types", "is not supported: attention on the way up must mirror down_block_types");

  const auto size = c.value("sample_size", nullptr);
  if (size.is_number_integer()) {
    u.image_height = u.image_width = size.get<int64_t>();
  } else if (size.is_array() && size.size() == 2 && size[0].is_number_integer() && size[1].is_number_integer()) {
    u.image_height = size[0].get<int64_t>(), u.image_width = size[1].get<int64_t>();
  } else {
    throw c.error("sample_size", "must be the image size (an integer or [height, width])");
  }
  u.attention_resolutions.clear();
  for (size_t i = 0; i < down.size(); ++i)
    if (down[i]) u.attention_resolutions.push_back(std::min(u.image_height, u.image_width) >> i);

  u.in_channels = c.get<int64_t>("in_channels", 3);
  if (c.get<int64_t>("out_channels", 3) != u.in_channels)
    throw c.error("out_channels", fmt::format("is not supported: ddpm's network predicts as many channels as it "
                                              "reads (in_channels = {}); a learned variance is not built",
                                              u.in_channels));
  u.num_res_blocks = c.get<int64_t>("layers_per_block", 2);
  u.norm_groups = c.get<int64_t>("norm_num_groups", 32);
  u.norm_eps = c.get<double>("norm_eps", 1e-5);
  u.dropout = c.get<double>("dropout", 0.0);
  u.mid_attention = c.get<bool>("add_attention", true);
  u.flip_sin_to_cos = c.get<bool>("flip_sin_to_cos", true);
  u.freq_shift = c.get<int64_t>("freq_shift", 0);
  if (u.freq_shift != 0 && u.freq_shift != 1) throw c.error("freq_shift", "is not supported: ddpm builds 0 and 1");
  u.downsample_padding = c.get<int64_t>("downsample_padding", 1);
  if (u.downsample_padding != 0 && u.downsample_padding != 1)
    throw c.error("downsample_padding", "is not supported: ddpm builds 0 and 1");
  // null: one head over the block's width (Ho et al.); a missing key: diffusers' default of 8 channels a head.
  const auto head_dim = c.value("attention_head_dim", 8);
  if (!head_dim.is_null() && !head_dim.is_number_integer()) throw c.error("attention_head_dim", "has the wrong type");
  u.attention_head_dim = head_dim.is_null() ? 0 : head_dim.get<int64_t>();
  if (!head_dim.is_null() && u.attention_head_dim < 1) throw c.error("attention_head_dim", "must be >= 1 or null");

  const auto act = c.value("act_fn", "silu");
  if (act != "silu" && act != "swish") throw c.error("act_fn", "is not supported: ddpm's U-Net uses SiLU");
  require_value(c, "center_input_sample", false, false, "ddpm's networks read x_t as it is");
  require_value(c, "time_embedding_type", "positional", "positional", "ddpm builds the sinusoidal embedding");
  if (const auto d = c.value("time_embedding_dim", nullptr); !d.is_null() && d != json(4 * u.base_channels))
    throw c.error("time_embedding_dim", fmt::format("is not supported: ddpm's is 4 x block_out_channels[0] = {}",
                                                    4 * u.base_channels));
  require_value(c, "mid_block_type", "UNetMidBlock2D", "UNetMidBlock2D", "ddpm's U-Net has UNetMidBlock2D");
  require_value(c, "mid_block_scale_factor", 1, 1, "ddpm's middle block does not rescale");
  require_value(c, "resnet_time_scale_shift", "default", "default", "ddpm's residual blocks add the time embedding");
  require_value(c, "downsample_type", "conv", "conv", "ddpm downsamples with a strided convolution");
  require_value(c, "upsample_type", "conv", "conv", "ddpm upsamples by nearest neighbour and a convolution");
  require_value(c, "class_embed_type", nullptr, nullptr, "ddpm's classes are an embedding table (class_embed_type null)");
  // ddpm's class-conditional networks have one row per class and a last one for "no class"; which row that
  // is, and what the classes are called, only ddpm's own export records.
  if (const auto n = c.value("num_class_embeds", nullptr); !n.is_null()) {
    if (class_names.empty())
      throw c.error("num_class_embeds", fmt::format("is not supported: a class-conditional model not written by "
                                                    "ddpm (its weights carry no {})",
                                                    kDiffusersClassNamesKey));
    if (n != json(class_names.size() + 1))
      throw c.error("num_class_embeds", fmt::format("does not fit the {} classes of {} (plus \"no class\")",
                                                    class_names.size(), kDiffusersClassNamesKey));
    m.class_names = class_names;
  }
  if (const auto g = c.value("attn_norm_num_groups", nullptr); !g.is_null() && g != json(u.norm_groups))
    throw c.error("attn_norm_num_groups", "is not supported: ddpm's attention normalises like the blocks");

  try {
    plan_unet(u);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", file, e.what()));
  }
  return m;
}

// Every key of diffusers 0.30's UNet2DModel is written (mid_block_type and time_embedding_dim, newer and at
// their defaults, are left out: older diffusers warn about keys they do not know).
json diffusers_unet_config(const ModelConfig& config) {
  if (config.arch != "unet")
    throw std::invalid_argument(
        fmt::format("a {} network cannot be written for diffusers: only ddpm's U-Net is a UNet2DModel", config.arch));
  const auto& u = config.unet;
  const UNetPlan plan = plan_unet(u);
  json widths = json::array(), down = json::array(), up = json::array();
  for (const auto& level : plan.down) {
    widths.push_back(level.channels);
    down.push_back(level.attention ? "AttnDownBlock2D" : "DownBlock2D");
  }
  for (const auto& level : plan.up) up.push_back(level.attention ? "AttnUpBlock2D" : "UpBlock2D");
  const json size = u.image_height == u.image_width ? json(u.image_height) : json{u.image_height, u.image_width};
  return {{"_class_name", "UNet2DModel"},
          {"_diffusers_version", kDiffusersFormatVersion},
          {"act_fn", "silu"},
          {"add_attention", u.mid_attention},
          {"attention_head_dim", u.attention_head_dim == 0 ? json(nullptr) : json(u.attention_head_dim)},
          {"attn_norm_num_groups", nullptr},
          {"block_out_channels", widths},
          {"center_input_sample", false},
          {"class_embed_type", nullptr},
          {"down_block_types", down},
          {"downsample_padding", u.downsample_padding},
          {"downsample_type", "conv"},
          {"dropout", u.dropout},
          {"flip_sin_to_cos", u.flip_sin_to_cos},
          {"freq_shift", u.freq_shift},
          {"in_channels", u.in_channels},
          {"layers_per_block", u.num_res_blocks},
          {"mid_block_scale_factor", 1},
          {"norm_eps", u.norm_eps},
          {"norm_num_groups", u.norm_groups},
          {"num_class_embeds", config.conditional() ? json(config.num_classes() + 1) : json(nullptr)},
          {"num_train_timesteps", nullptr},
          {"out_channels", u.in_channels},
          {"resnet_time_scale_shift", "default"},
          {"sample_size", size},
          {"time_embedding_type", "positional"},
          {"up_block_types", up},
          {"upsample_type", "conv"}};
}

}  // namespace ddpm
