// Saved models: float32 weights as safetensors, named like the modules' state dict (= diffusers' keys
// for the U-Net), with the full ModelConfig as JSON in the metadata key "ddpm.model_config", so a model
// rebuilds from its file alone.
#pragma once

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/noise_net.h"

namespace ddpm {

inline constexpr const char* kModelConfigKey = "ddpm.model_config";
inline constexpr const char* kVersionKey = "ddpm.version";  // the ddpm that wrote the file (DDPM_VERSION)

// Every parameter and buffer of `module` under its state-dict name (detached, sharing storage).
std::vector<std::pair<std::string, torch::Tensor>> state_dict_tensors(const torch::nn::Module& module);

// Copies `content`'s tensors into `module` by name (moving them to the module's device). Every parameter
// and buffer must be present with its exact shape and dtype and hold finite values, and no tensor may be
// left over; otherwise std::runtime_error names the offending tensor.
void load_weights_into(torch::nn::Module& module, const SafetensorsContent& content, const std::string& source_name);

// The one writer of ddpm's network files (models, checkpoints' weights, the classifier): `module`'s
// weights as float32 plus metadata {"format": "pt", config_key: config_json, kVersionKey: DDPM_VERSION}
// and `extra_metadata` (which
// may not reuse those keys; `writer` names the caller in that error).
SafetensorsContent module_file_content(const torch::nn::Module& module, const std::string& config_key,
                                       const std::string& config_json,
                                       const std::map<std::string, std::string>& extra_metadata,
                                       const std::string& writer);

// Writes module_file_content(...) to `path`. Atomic: an existing file is replaced whole or kept.
void save_module_file(const std::string& path, const torch::nn::Module& module, const std::string& config_key,
                      const std::string& config_json, const std::map<std::string, std::string>& extra_metadata,
                      const std::string& writer);

// A model file's content: module_file_content with the ModelConfig under kModelConfigKey.
SafetensorsContent model_file_content(const NoiseNetImpl& net, const ModelConfig& config,
                                      const std::map<std::string, std::string>& extra_metadata = {});

// Writes model_file_content(...) to `path`. Atomic: an existing file is replaced whole or kept.
void save_model(const std::string& path, const NoiseNetImpl& net, const ModelConfig& config,
                const std::map<std::string, std::string>& extra_metadata = {});

// What a model file holds. (inference/trained_model.h's TrainedModel adds the schedule and the training
// step stored beside the weights: the model ready to sample.)
struct ModelFile {
  ModelConfig config;
  NoiseNet net;  // in training mode, as built; call net->eval() to sample
  std::map<std::string, std::string> metadata;
};

// Rebuilds the network from the file's config and loads its weights (errors name the file and tensor).
ModelFile load_model(const std::string& path);

}  // namespace ddpm
