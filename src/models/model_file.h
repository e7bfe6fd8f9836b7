// Saved models: float32 weights as safetensors, named like the modules' state dict (= diffusers' keys
// for the U-Net), with the full ModelConfig as JSON in the metadata key "ddpm.model_config", so a model
// rebuilds from its file alone.
#pragma once

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "models/model_config.h"
#include "models/noise_net.h"

namespace ddpm {

inline constexpr const char* kModelConfigKey = "ddpm.model_config";

// Every parameter and buffer of `module` under its state-dict name (detached, sharing storage).
std::vector<std::pair<std::string, torch::Tensor>> state_dict_tensors(const torch::nn::Module& module);

// Copies `content`'s tensors into `module` by name (moving them to the module's device). Every parameter
// and buffer must be present with its exact shape and dtype and hold finite values, and no tensor may be
// left over; otherwise std::runtime_error names the offending tensor.
void load_weights_into(torch::nn::Module& module, const SafetensorsContent& content, const std::string& source_name);

// Writes `module`'s weights as float32 plus metadata {"format": "pt", config_key: config_json} and
// `extra_metadata` (which may not reuse those keys; `writer` names the caller in that error). Atomic: an
// existing file is replaced whole or kept. Shared by every ddpm network file (models, the classifier).
void save_module_file(const std::string& path, const torch::nn::Module& module, const std::string& config_key,
                      const std::string& config_json, const std::map<std::string, std::string>& extra_metadata,
                      const std::string& writer);

// Writes the weights as float32 plus metadata {"format": "pt", kModelConfigKey: config JSON} and
// `extra_metadata` (which may not reuse those keys). Atomic: an existing file is replaced whole or kept.
void save_model(const std::string& path, const NoiseNetImpl& net, const ModelConfig& config,
                const std::map<std::string, std::string>& extra_metadata = {});

struct LoadedModel {
  ModelConfig config;
  NoiseNet net;  // in training mode, as built; call net->eval() to sample
  std::map<std::string, std::string> metadata;
};

// Rebuilds the network from the file's config and loads its weights (errors name the file and tensor).
LoadedModel load_model(const std::string& path);

}  // namespace ddpm
