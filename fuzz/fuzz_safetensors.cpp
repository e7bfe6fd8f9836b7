// Fuzz target: the safetensors reader. Every byte string decodes or is rejected with std::runtime_error;
// a crash, a sanitizer report, any other exception or a huge allocation is a finding. A file that decodes
// must survive the writer and decode again to the same bytes (the writer may refuse names it never writes:
// std::invalid_argument).
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "ddpm/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ddpm::SafetensorsContent content;
  try {
    content = ddpm::decode_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const std::runtime_error&) {
    return 0;
  }
  std::string again;
  try {
    again = ddpm::encode_safetensors(content);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const auto back = ddpm::decode_safetensors(again, "re-encoded");
  if (back.metadata != content.metadata || back.tensors.size() != content.tensors.size()) std::abort();
  for (size_t i = 0; i < back.tensors.size(); ++i) {
    const auto& [name, t] = content.tensors[i];
    const auto& [name2, t2] = back.tensors[i];
    if (name != name2 || t.scalar_type() != t2.scalar_type() || t.sizes() != t2.sizes() ||
        (t.nbytes() > 0 && std::memcmp(t.data_ptr(), t2.data_ptr(), t.nbytes()) != 0))
      std::abort();
  }
  return 0;
}
