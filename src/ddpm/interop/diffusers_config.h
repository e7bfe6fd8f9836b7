// Reading a diffusers config.json the way diffusers does (interop/'s readers share it): a missing key takes the
// class's default, as does a key listed in "_use_default_values"; JSON null is Python's None; keys diffusers
// would ignore (unknown or "_"-prefixed) are ignored here too. Errors name the file, the key and its value.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <string>

namespace ddpm {

class DiffusersConfig {
 public:
  DiffusersConfig(const nlohmann::json& config, std::string file);

  // The value diffusers would use for `key`: the file's, or `fallback` (its __init__ default).
  nlohmann::json value(const std::string& key, const nlohmann::json& fallback) const;
  // That value as T (an integer type takes JSON integers only: 2.9 is not 2); another type is an error naming
  // the key.
  template <typename T>
  T get(const std::string& key, const nlohmann::json& fallback) const {
    const auto v = value(key, fallback);
    if (!fits<T>(v) && !(v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& e) { return fits_element<T>(e); })))
      throw error(key, "has the wrong type");
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw error(key, "has the wrong type");
    }
  }
  // "FILE: KEY = VALUE what" as an exception, for a value ddpm cannot use.
  std::invalid_argument error(const std::string& key, const std::string& what) const;
  // Whether `v` is JSON of T's kind (a std::vector takes arrays, checked element by element).
  template <typename T>
  static bool fits(const nlohmann::json& v) {
    if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
    else if constexpr (std::is_integral_v<T>) return v.is_number_integer();
    else if constexpr (std::is_floating_point_v<T>) return v.is_number();
    else if constexpr (std::is_same_v<T, std::string>) return v.is_string();
    else return false;  // containers: by element
  }
  template <typename T>
  static bool fits_element(const nlohmann::json& e) {
    if constexpr (std::is_same_v<T, std::string> || std::is_arithmetic_v<T>) return false;
    else return fits<typename T::value_type>(e);
  }
  const std::string& file() const { return file_; }

 private:
  nlohmann::json config_;
  std::string file_;
};

}  // namespace ddpm
