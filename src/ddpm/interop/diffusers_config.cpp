#include "ddpm/interop/diffusers_config.h"

#include <fmt/format.h>

namespace ddpm {

DiffusersConfig::DiffusersConfig(const nlohmann::json& config, std::string file) : file_(std::move(file)) {
  if (!config.is_object()) throw std::invalid_argument(fmt::format("{}: not a JSON object", file_));
  config_ = config;
  // Keys some diffusers versions wrote with their own defaults but meant as "use the current default".
  if (const auto it = config.find("_use_default_values"); it != config.end() && it->is_array())
    for (const auto& key : *it)
      if (key.is_string()) config_.erase(key.get<std::string>());
}

nlohmann::json DiffusersConfig::value(const std::string& key, const nlohmann::json& fallback) const {
  const auto it = config_.find(key);
  return it == config_.end() ? fallback : *it;
}

std::invalid_argument DiffusersConfig::error(const std::string& key, const std::string& what) const {
  const auto it = config_.find(key);
  const std::string shown = it == config_.end() ? "(missing)" : it->dump();
  return std::invalid_argument(fmt::format("{}: {} = {} {}", file_, key, shown, what));
}

}  // namespace ddpm
