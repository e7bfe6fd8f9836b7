// Saving and loading networks as safetensors with their config (see model_file.h).
#include "ddpm/models/model_file.h"

#include <set>
#include <stdexcept>

#include <fmt/ranges.h>

#include "ddpm/models/model_size.h"
#include "ddpm/version.h"

namespace ddpm {

std::vector<std::pair<std::string, torch::Tensor>> state_dict_tensors(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().detach());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value().detach());
  return out;
}

void load_weights_into(torch::nn::Module& module, const SafetensorsContent& content, const std::string& source_name) {
  std::map<std::string, const torch::Tensor*> stored;
  for (const auto& [name, tensor] : content.tensors) stored[name] = &tensor;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : state_dict_tensors(module)) {
    const auto it = stored.find(name);
    if (it == stored.end())
      throw std::runtime_error(fmt::format("{}: tensor \"{}\" is missing (the model expects shape {})", source_name,
                                           name, fmt::join(target.sizes(), "x")));
    if (it->second->sizes() != target.sizes())
      throw std::runtime_error(fmt::format("{}: tensor \"{}\" has shape [{}], the model expects [{}]", source_name,
                                           name, fmt::join(it->second->sizes(), ", "), fmt::join(target.sizes(), ", ")));
    // Same-size dtypes (F32 and I32) differ by one header byte; converting would load other numbers.
    if (it->second->scalar_type() != target.scalar_type())
      throw std::runtime_error(fmt::format("{}: tensor \"{}\" is {}, the model expects {}", source_name, name,
                                           c10::toString(it->second->scalar_type()), c10::toString(target.scalar_type())));
    if (!torch::isfinite(*it->second).all().item<bool>())
      throw std::runtime_error(fmt::format("{}: tensor \"{}\" holds NaN or infinite values", source_name, name));
    target.copy_(*it->second);
    used.insert(name);
  }
  for (const auto& [name, tensor] : stored)
    if (!used.count(name))
      throw std::runtime_error(fmt::format("{}: unexpected tensor \"{}\" that the model does not have", source_name, name));
}

SafetensorsContent module_file_content(const torch::nn::Module& module, const std::string& config_key,
                                       const std::string& config_json,
                                       const std::map<std::string, std::string>& extra_metadata,
                                       const std::string& writer) {
  SafetensorsContent content;
  // Weights as float32 (whatever precision they were trained in); integer buffers (BatchNorm's
  // num_batches_tracked) keep their type, which the loader checks.
  for (auto& [name, tensor] : state_dict_tensors(module))
    content.tensors.emplace_back(name, tensor.is_floating_point() ? tensor.to(torch::kFloat32) : tensor);
  content.metadata = {{"format", "pt"}, {config_key, config_json}, {kVersionKey, DDPM_VERSION}};
  for (const auto& [key, value] : extra_metadata)
    if (!content.metadata.emplace(key, value).second)
      throw std::invalid_argument(fmt::format("{}: metadata key \"{}\" is reserved", writer, key));
  return content;
}

void save_module_file(const std::string& path, const torch::nn::Module& module, const std::string& config_key,
                      const std::string& config_json, const std::map<std::string, std::string>& extra_metadata,
                      const std::string& writer) {
  write_safetensors(path, module_file_content(module, config_key, config_json, extra_metadata, writer));
}

SafetensorsContent model_file_content(const NoiseNetImpl& net, const ModelConfig& config,
                                      const std::map<std::string, std::string>& extra_metadata) {
  return module_file_content(net, kModelConfigKey, nlohmann::json(config).dump(), extra_metadata, "model file");
}

void save_model(const std::string& path, const NoiseNetImpl& net, const ModelConfig& config,
                const std::map<std::string, std::string>& extra_metadata) {
  write_safetensors(path, model_file_content(net, config, extra_metadata));
}

ModelFile load_model(const std::string& path) {
  SafetensorsContent content = read_safetensors(path);
  const auto it = content.metadata.find(kModelConfigKey);
  if (it == content.metadata.end())
    throw std::runtime_error(fmt::format("{}: no \"{}\" metadata; not a model saved by ddpm (a diffusers model "
                                         "is read as its folder: pass the folder that holds model_index.json or "
                                         "config.json)",
                                         path, kModelConfigKey));
  ModelFile loaded;
  try {
    loaded.config = nlohmann::json::parse(it->second).get<ModelConfig>();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: bad \"{}\" metadata: {}", path, kModelConfigKey, e.what()));
  }
  // The config is the file's claim, its tensors are its substance: a size edited in the metadata must not
  // build (and allocate) a network far larger than the file. Within twice the file's values the network is
  // built, and load_weights_into names the tensor that is missing, misshapen or left over.
  int64_t stored = 0;
  for (const auto& [name, tensor] : content.tensors) stored += tensor.numel();
  int64_t planned = 0;
  try {
    planned = planned_parameter_count(loaded.config);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: bad \"{}\" metadata: {}", path, kModelConfigKey, e.what()));
  }
  if (planned > 2 * stored)
    throw std::runtime_error(fmt::format("{}: the \"{}\" metadata describes a network of {} parameters, more than "
                                         "twice the {} values the file holds",
                                         path, kModelConfigKey, planned, stored));
  loaded.net = build_model(loaded.config);
  load_weights_into(*loaded.net, content, path);
  loaded.metadata = std::move(content.metadata);
  return loaded;
}

}  // namespace ddpm
