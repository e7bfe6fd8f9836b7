// One row of the model-kind table (models/model_kinds.cpp): everything that differs between kinds of
// network ε_θ, so the rest of ddpm asks the table instead of comparing ModelConfig::arch. Adding a kind is
// its network, its sub-config in ModelConfig, one file defining its row (like unet_kind.cpp) and the row's
// entry in the table.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/models/model_config.h"

namespace ddpm {

struct ModelKind {
  const char* arch;  // ModelConfig::arch, and the key of the kind's sub-config in JSON
  const char* help;
  bool images;       // samples are images in [-1, 1], [C, H, W]: x̂_0 clipped to that range, written as PNG
  bool bf16_pays;    // its products are large enough for bf16 to beat fp32 where bf16 is native (`ddpm bench`)
  NoiseNet (*build)(const ModelConfig&);
  int64_t (*flops)(const ModelConfig&);  // forward FLOPs per sample
  int64_t (*parameters)(const ModelConfig&);  // planned_parameter_count (models/model_size.h)
  int64_t (*activation_bytes)(const ModelConfig&, bool training);  // activation_bytes_per_sample
  std::vector<int64_t> (*sample_shape)(const ModelConfig&);
  void (*fit_to_data)(ModelConfig&, const std::vector<int64_t>& shape);  // throws if the data is not this kind's
  nlohmann::json (*to_json)(const ModelConfig&);                   // the sub-config alone
  void (*from_json)(const nlohmann::json&, ModelConfig&);          // likewise; throws naming the field
  std::string (*describe)(const ModelConfig&);
};

// The row of `arch`; std::invalid_argument naming the known kinds otherwise.
const ModelKind& model_kind(const std::string& arch);

// The FLOP counts of the two kinds' networks (models/flops.cpp).
int64_t unet_flops(const UNetConfig& config);
int64_t mlp_flops(const MLPConfig& config);
// Their parameter counts (with `classes` classes: 0 for an unconditional network) and activation memory per
// sample, without building them (models/model_size.cpp).
int64_t unet_parameters(const UNetConfig& config, int64_t classes);
int64_t mlp_parameters(const MLPConfig& config, int64_t classes);
int64_t unet_activation_bytes(const UNetConfig& config, bool training);
int64_t mlp_activation_bytes(const MLPConfig& config, bool training);

extern const ModelKind kUNetKind;  // models/unet_kind.cpp
extern const ModelKind kMLPKind;   // models/mlp_kind.cpp

}  // namespace ddpm
