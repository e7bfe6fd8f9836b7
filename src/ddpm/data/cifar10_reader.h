// Reader for the CIFAR-10 binary batches: 10,000 records of one label byte (0-9) and a 3x32x32 CHW image.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

constexpr int64_t kCifarRecords = 10000;
constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;
constexpr int64_t kCifarBatchBytes = kCifarRecords * kCifarRecordBytes;  // 30,730,000

struct CifarBatch {
  torch::Tensor images;  // uint8 [10000, 3, 32, 32]
  torch::Tensor labels;  // int64 [10000]
};

// One batch file; a size other than 30,730,000 bytes or a label above 9 is an error naming the file.
CifarBatch read_cifar10_batch(const std::string& path);

// The batch files of a split: data_batch_1..5.bin for "train", test_batch.bin for "test".
std::vector<std::string> cifar10_files(const std::string& dir, const std::string& split);

}  // namespace ddpm
