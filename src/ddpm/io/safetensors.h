// The safetensors format (the weight format of the Python ecosystem): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {string: string}}, then the data buffer. The reader is strict: every malformed file is rejected with
// an error naming the file and the rule it breaks, before any large allocation.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ddpm {

struct SafetensorsContent {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // decode returns them sorted by name
  std::map<std::string, std::string> metadata;
};

// The reader refuses headers longer than this (the reference implementation's limit).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL. Tensors may live on any device; they are
// written contiguous, sorted by name, with the header padded by spaces to a multiple of 8 bytes.
// Throws std::invalid_argument on duplicate/empty/reserved names or an unsupported dtype.
std::string encode_safetensors(const SafetensorsContent& content);

// Parses and validates a whole file held in memory; `source_name` (usually the path) prefixes every
// error. Throws std::runtime_error on a malformed file. Tensors are CPU tensors owning their memory.
SafetensorsContent decode_safetensors(const std::string& bytes, const std::string& source_name);

void write_safetensors(const std::string& path, const SafetensorsContent& content);  // atomic
SafetensorsContent read_safetensors(const std::string& path);

}  // namespace ddpm
