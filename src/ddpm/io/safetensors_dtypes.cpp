// The safetensors dtype table and the UTF-8 check of the header (see safetensors_dtypes.h).
#include "ddpm/io/safetensors_dtypes.h"

#include <array>

namespace ddpm::detail {
namespace {

constexpr std::array<SafetensorsDtype, 10> kDtypes = {{
    {"F64", c10::kDouble, 8},
    {"F32", c10::kFloat, 4},
    {"F16", c10::kHalf, 2},
    {"BF16", c10::kBFloat16, 2},
    {"I64", c10::kLong, 8},
    {"I32", c10::kInt, 4},
    {"I16", c10::kShort, 2},
    {"I8", c10::kChar, 1},
    {"U8", c10::kByte, 1},
    {"BOOL", c10::kBool, 1},
}};

}  // namespace

std::optional<SafetensorsDtype> dtype_by_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d;
  return std::nullopt;
}

std::optional<SafetensorsDtype> dtype_by_type(c10::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d;
  return std::nullopt;
}

std::string known_dtype_names() {
  std::string names;
  for (const auto& d : kDtypes) names += (names.empty() ? "" : ", ") + std::string(d.name);
  return names;
}

bool is_valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return false;  // a continuation byte or 0xF8..0xFF where a sequence must start
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace ddpm::detail
