// Reader for the IDX format of MNIST-like data sets (big-endian header, unsigned-byte payload), raw or
// gzip-compressed. Header counts are checked against the data actually present before any large allocation.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace ddpm {

// Largest payload accepted from one IDX file; far above EMNIST's ~550 MB, far below a forged header's TiB.
constexpr uint64_t kMaxIdxPayloadBytes = uint64_t{4} << 30;

// Images (magic 0x00000803, dims N, H, W) as uint8 [N, 1, H, W].
torch::Tensor read_idx_images(const std::string& path);
// Labels (magic 0x00000801, dim N) as int64 [N].
torch::Tensor read_idx_labels(const std::string& path);

}  // namespace ddpm
