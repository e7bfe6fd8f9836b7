// Reading a diffusers config.json the way diffusers does (private to interop/): a missing key takes the
// class's default, as does a key listed in "_use_default_values"; JSON null is Python's None; keys diffusers
// would ignore (unknown or "_"-prefixed) are ignored here too. Errors name the file, the key and its value.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace ddpm {

class DiffusersConfig {
 public:
  DiffusersConfig(const nlohmann::json& config, std::string file);

  // The value diffusers would use for `key`: the file's, or `fallback` (its __init__ default).
  const nlohmann::json& value(const std::string& key, const nlohmann::json& fallback) const;
  // That value as T; a value of another type is an error naming the key.
  template <typename T>
  T get(const std::string& key, const nlohmann::json& fallback) const {
    const auto& v = value(key, fallback);
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw error(key, "has the wrong type");
    }
  }
  // "FILE: KEY = VALUE what" as an exception, for a value ddpm cannot use.
  std::invalid_argument error(const std::string& key, const std::string& what) const;
  const std::string& file() const { return file_; }

 private:
  nlohmann::json config_;
  std::string file_;
};

}  // namespace ddpm
