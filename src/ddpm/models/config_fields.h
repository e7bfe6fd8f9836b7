// Reading a model config's JSON strictly: a missing field, a wrong type or an unknown key is an error
// naming the field, because a typo or a newer format must not be silently ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ddpm/io/json_integer.h"

namespace ddpm {

// Reads j[key] as T; a missing key or a wrong type is an error naming `where.key`.
template <typename T>
T field(const nlohmann::json& j, const std::string& where, const std::string& key) {
  if (!j.contains(key)) throw std::invalid_argument(fmt::format("model config: missing field {}.{}", where, key));
  try {
    if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, std::vector<int64_t>>)
      return json_integer<T>(j.at(key), fmt::format("model config: field {}.{}", where, key));
    else
      return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("model config: field {}.{} has the wrong type ({}): {}", where, key,
                                            j.at(key).dump(), e.what()));
  }
}

// j[key] as field<T> reads it, or `fallback` where the key is missing (a field added after files were written).
template <typename T>
T field_or(const nlohmann::json& j, const std::string& where, const std::string& key, T fallback) {
  return j.contains(key) ? field<T>(j, where, key) : fallback;
}

inline void check_keys(const nlohmann::json& j, const std::string& where, const std::set<std::string>& known) {
  if (!j.is_object()) throw std::invalid_argument(fmt::format("model config: {} must be a JSON object", where));
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) throw std::invalid_argument(fmt::format("model config: unknown field {}.{}", where, key));
}

}  // namespace ddpm
