// Integer fields of JSON configs. nlohmann converts a JSON float to an integer with a plain cast, which is
// undefined behaviour when the value is out of range (1e300: found by fuzz/fuzz_config), so integer fields
// must hold JSON integers.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ddpm {

// `value` as T (an integer type, or a vector of one); std::invalid_argument naming `what` otherwise.
template <typename T>
T json_integer(const nlohmann::json& value, const std::string& what) {
  const bool ok = value.is_array() ? std::all_of(value.begin(), value.end(), [](const nlohmann::json& e) { return e.is_number_integer(); })
                                   : value.is_number_integer();
  if (!ok) throw std::invalid_argument(what + " must be " + (value.is_array() ? "integers" : "an integer") + ", got " + value.dump());
  return value.get<T>();
}

}  // namespace ddpm
