// The safetensors writer: deterministic output (tensors sorted by name, data in that order, header
// padded with spaces so the data buffer starts 8-byte aligned).
#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "ddpm/io/atomic_file.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/io/safetensors_dtypes.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors stores little-endian data; this code copies host memory and needs a little-endian host"
#endif

namespace ddpm {

std::string encode_safetensors(const SafetensorsContent& content) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors = content.tensors;
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    if (name.empty() || name == "__metadata__")
      throw std::invalid_argument(fmt::format("safetensors: invalid tensor name \"{}\"", name));
    if (i > 0 && tensors[i - 1].first == name)
      throw std::invalid_argument(fmt::format("safetensors: tensor name \"{}\" appears twice", name));
    const auto dtype = detail::dtype_by_type(tensor.scalar_type());
    if (!dtype)
      throw std::invalid_argument(fmt::format("safetensors: tensor \"{}\" has unsupported dtype {} (supported: {})",
                                              name, c10::toString(tensor.scalar_type()), detail::known_dtype_names()));
    const auto t = tensor.detach().to(torch::kCPU).contiguous();
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype->bytes;
    header[name] = {{"dtype", dtype->name}, {"shape", t.sizes().vec()}, {"data_offsets", {data.size(), data.size() + bytes}}};
    if (bytes > 0) data.append(static_cast<const char*>(t.data_ptr()), bytes);
  }
  if (!content.metadata.empty()) header["__metadata__"] = content.metadata;

  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("safetensors: names and metadata must be valid UTF-8: {}", e.what()));
  }
  json.append((8 - json.size() % 8) % 8, ' ');  // 8 + N stays a multiple of 8
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((static_cast<uint64_t>(json.size()) >> (8 * b)) & 0xFF);
  return out + json + data;
}

void write_safetensors(const std::string& path, const SafetensorsContent& content) {
  write_file_atomically(path, encode_safetensors(content));
}

}  // namespace ddpm
