// Saving and loading networks as safetensors with their config (see model_file.h).
#include "models/model_file.h"

#include <set>
#include <stdexcept>

#include <fmt/ranges.h>

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
  for (auto& [name, tensor] : state_dict_tensors(module)) content.tensors.emplace_back(name, tensor.to(torch::kFloat32));
  content.metadata = {{"format", "pt"}, {config_key, config_json}};
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
    throw std::runtime_error(fmt::format("{}: no \"{}\" metadata; not a model saved by ddpm (hint: save it with "
                                         "save_model, or import diffusers weights with a config)",
                                         path, kModelConfigKey));
  ModelFile loaded;
  try {
    loaded.config = nlohmann::json::parse(it->second).get<ModelConfig>();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: bad \"{}\" metadata: {}", path, kModelConfigKey, e.what()));
  }
  loaded.net = build_model(loaded.config);
  load_weights_into(*loaded.net, content, path);
  loaded.metadata = std::move(content.metadata);
  return loaded;
}

}  // namespace ddpm
