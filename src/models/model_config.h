// The full description of a noise-prediction network: a plain struct that round-trips through JSON and
// is stored with every saved model, so a model rebuilds from its file alone.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/noise_net.h"

namespace ddpm {

struct UNetConfig {
  int64_t in_channels = 1;                         // 1 (gray), 3 (RGB), 4, ...
  int64_t image_height = 28;
  int64_t image_width = 28;
  int64_t base_channels = 32;                      // Ho et al. CIFAR-10: 128
  std::vector<int64_t> channel_mult = {1, 2, 2};   // per resolution level
  int64_t num_res_blocks = 2;                      // per level
  std::vector<int64_t> attention_resolutions = {7};  // feature-map sizes (min(H, W)) with self-attention
  bool mid_attention = true;
  double dropout = 0.1;
  int64_t norm_groups = 32;
  double norm_eps = 1e-6;                          // diffusers' UNet2DModel value
};

struct MLPConfig {
  int64_t data_dim = 2;      // d
  int64_t hidden = 128;      // width
  int64_t depth = 3;         // hidden layers
  int64_t time_embed_dim = 64;
};

struct ModelConfig {
  std::string arch = "unet";  // unet | mlp
  UNetConfig unet;
  MLPConfig mlp;
};

void to_json(nlohmann::json& j, const ModelConfig& c);
void from_json(const nlohmann::json& j, ModelConfig& c);  // throws on missing/invalid fields

// Named presets: cifar10, fashion, celebahq256 (U-Nets) and mlp-2d (MLP).
std::vector<std::string> preset_names();
ModelConfig model_preset(const std::string& name);  // throws std::invalid_argument for unknown names

NoiseNet build_model(const ModelConfig& config);
int64_t parameter_count(const torch::nn::Module& model);
// Forward FLOPs for one sample, counted from the architecture (multiply-add = 2 FLOPs).
int64_t forward_flops_per_sample(const ModelConfig& config);

}  // namespace ddpm
