// The safetensors dtype names and their LibTorch scalar types (private to src/ddpm/io/safetensors*.cpp).
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ddpm::detail {

struct SafetensorsDtype {
  const char* name;
  c10::ScalarType type;
  uint64_t bytes;
};

std::optional<SafetensorsDtype> dtype_by_name(const std::string& name);
std::optional<SafetensorsDtype> dtype_by_type(c10::ScalarType type);
std::string known_dtype_names();  // "F64, F32, ..." for error messages

// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(const std::string& s);

}  // namespace ddpm::detail
