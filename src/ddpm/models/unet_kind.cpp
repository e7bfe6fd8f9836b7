// The U-Net's row of the model-kind table: Ho et al.'s network for images.
#include <fmt/ranges.h>

#include "ddpm/models/config_fields.h"
#include "ddpm/models/model_kind.h"
#include "ddpm/models/unet.h"

namespace ddpm {
namespace {

nlohmann::json unet_to_json(const ModelConfig& c) {
  const auto& u = c.unet;
  nlohmann::json j = {{"in_channels", u.in_channels},     {"image_height", u.image_height},
          {"image_width", u.image_width},     {"base_channels", u.base_channels},
          {"channel_mult", u.channel_mult},   {"num_res_blocks", u.num_res_blocks},
          {"attention_resolutions", u.attention_resolutions},
          {"mid_attention", u.mid_attention}, {"dropout", u.dropout},
          {"norm_groups", u.norm_groups},     {"norm_eps", u.norm_eps}};
  // diffusers' other settings are written only where they differ from Ho et al.'s, so that the files of
  // Ho et al.'s network stay readable by the ddpm versions before them.
  const UNetConfig ho;
  if (u.attention_head_dim != ho.attention_head_dim) j["attention_head_dim"] = u.attention_head_dim;
  if (u.flip_sin_to_cos != ho.flip_sin_to_cos) j["flip_sin_to_cos"] = u.flip_sin_to_cos;
  if (u.freq_shift != ho.freq_shift) j["freq_shift"] = u.freq_shift;
  if (u.downsample_padding != ho.downsample_padding) j["downsample_padding"] = u.downsample_padding;
  return j;
}

void unet_from_json(const nlohmann::json& u, ModelConfig& c) {
  const std::string w = "model_config.unet";
  check_keys(u, w, {"in_channels", "image_height", "image_width", "base_channels", "channel_mult", "num_res_blocks",
                    "attention_resolutions", "mid_attention", "dropout", "norm_groups", "norm_eps",
                    "attention_head_dim", "flip_sin_to_cos", "freq_shift", "downsample_padding"});
  auto& o = c.unet;
  o.in_channels = field<int64_t>(u, w, "in_channels");
  o.image_height = field<int64_t>(u, w, "image_height");
  o.image_width = field<int64_t>(u, w, "image_width");
  o.base_channels = field<int64_t>(u, w, "base_channels");
  o.channel_mult = field<std::vector<int64_t>>(u, w, "channel_mult");
  o.num_res_blocks = field<int64_t>(u, w, "num_res_blocks");
  o.attention_resolutions = field<std::vector<int64_t>>(u, w, "attention_resolutions");
  o.mid_attention = field<bool>(u, w, "mid_attention");
  o.dropout = field<double>(u, w, "dropout");
  o.norm_groups = field<int64_t>(u, w, "norm_groups");
  o.norm_eps = field<double>(u, w, "norm_eps");
  // Files written before these settings existed hold Ho et al.'s network, the defaults.
  const UNetConfig ho;
  o.attention_head_dim = field_or<int64_t>(u, w, "attention_head_dim", ho.attention_head_dim);
  o.flip_sin_to_cos = field_or<bool>(u, w, "flip_sin_to_cos", ho.flip_sin_to_cos);
  o.freq_shift = field_or<int64_t>(u, w, "freq_shift", ho.freq_shift);
  o.downsample_padding = field_or<int64_t>(u, w, "downsample_padding", ho.downsample_padding);
}

void unet_fit_to_data(ModelConfig& c, const std::vector<int64_t>& shape) {
  if (shape.size() != 3) throw std::invalid_argument("a U-Net takes images; point data needs mlp-2d");
  c.unet.in_channels = shape[0];
  c.unet.image_height = shape[1];
  c.unet.image_width = shape[2];
}

std::string unet_describe(const ModelConfig& c) {
  const auto& u = c.unet;
  return fmt::format("U-Net  input {}x{}x{}  base {}  mult [{}]  res blocks {}  attention at [{}]{}{}  dropout {}",
                     u.image_height, u.image_width, u.in_channels, u.base_channels, fmt::join(u.channel_mult, ", "),
                     u.num_res_blocks, fmt::join(u.attention_resolutions, ", "), u.mid_attention ? " + middle" : "",
                     u.attention_head_dim > 0 ? fmt::format(" ({} channels per head)", u.attention_head_dim) : "",
                     u.dropout);
}

}  // namespace

const ModelKind kUNetKind = {
    "unet",
    "unet: the U-Net of Ho et al. 2020 for images (diffusers' UNet2DModel layout)",
    /*images=*/true,
    /*bf16_pays=*/true,  // training 1.4x, sampling 1.0-1.5x (docs/PERFORMANCE.md)
    [](const ModelConfig& c) -> NoiseNet { return std::make_shared<UNetImpl>(c.unet, c.num_classes()); },
    [](const ModelConfig& c) { return unet_flops(c.unet); },
    [](const ModelConfig& c) { return unet_parameters(c.unet, c.num_classes()); },
    [](const ModelConfig& c, bool training) { return unet_activation_bytes(c.unet, training); },
    [](const ModelConfig& c) { return std::vector<int64_t>{c.unet.in_channels, c.unet.image_height, c.unet.image_width}; },
    unet_fit_to_data,
    unet_to_json,
    unet_from_json,
    unet_describe,
};

}  // namespace ddpm
