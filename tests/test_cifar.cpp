// CIFAR-10 binary batches built here: a valid full-size batch, a wrong size and a bad label.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/data/cifar10_reader.h"
#include "ddpm/data/data_spec.h"
#include "data_test_files.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

// Record r: label r % 10, pixel (c, y, x) = (r + 3c + y + x) % 256.
std::vector<uint8_t> batch_bytes() {
  std::vector<uint8_t> bytes(kCifarBatchBytes);
  for (int64_t r = 0; r < kCifarRecords; ++r) {
    uint8_t* rec = bytes.data() + r * kCifarRecordBytes;
    rec[0] = static_cast<uint8_t>(r % 10);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) rec[1 + c * 1024 + y * 32 + x] = static_cast<uint8_t>((r + 3 * c + y + x) % 256);
  }
  return bytes;
}

std::string error_of(const std::string& path) {
  try {
    read_cifar10_batch(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Cifar10, ValidBatchAndTestSplit) {
  const auto dir = scratch_dir("cifar");
  write_raw(dir + "/test_batch.bin", batch_bytes());
  DataOptions o;
  o.split = "test";
  const auto d = load_dataset("cifar10:" + dir, o);
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{10000, 3, 32, 32}));
  EXPECT_EQ(d.labels[1234].item<int64_t>(), 4);
  // CHW order: channel c is the c-th block of 1024 bytes in the record.
  EXPECT_EQ(d.images[1234][2][5][7].item<int>(), (1234 + 6 + 5 + 7) % 256);
  EXPECT_EQ(d.images[300][0][31][0].item<int>(), (300 + 31) % 256);
}

TEST(Cifar10, WrongSizeNamesTheFile) {
  const auto dir = scratch_dir("cifar");
  auto bytes = batch_bytes();
  bytes.pop_back();
  write_raw(dir + "/data_batch_1.bin", bytes);
  const auto msg = error_of(dir + "/data_batch_1.bin");
  EXPECT_NE(msg.find(dir + "/data_batch_1.bin: 30729999 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exactly 30730000"), std::string::npos) << msg;
}

TEST(Cifar10, BadLabel) {
  const auto dir = scratch_dir("cifar");
  auto bytes = batch_bytes();
  bytes[77 * kCifarRecordBytes] = 10;
  write_raw(dir + "/b.bin", bytes);
  EXPECT_NE(error_of(dir + "/b.bin").find("record 77 has label 10"), std::string::npos);
}

TEST(Cifar10, MissingTrainFilesAreAnError) {
  const auto dir = scratch_dir("cifar");
  write_raw(dir + "/test_batch.bin", {});
  EXPECT_THROW(load_dataset("cifar10:" + dir), std::runtime_error);  // data_batch_1.bin is absent
  EXPECT_THROW(load_dataset("cifar10:" + dir + "/nope"), std::runtime_error);
}
