// IDX reader on files built here: raw and gzip round trips, and each corruption the reader must catch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "ddpm/data/data_spec.h"
#include "ddpm/data/idx_reader.h"
#include "data_test_files.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

// 5 images of 3x4 with pixel (n, y, x) = 12n + 4y + x, and labels 0..4.
std::vector<uint8_t> pixels() {
  std::vector<uint8_t> p(5 * 3 * 4);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 4);
  return p;
}
std::vector<uint8_t> image_file() { return concat(idx_header(0x803, {5, 3, 4}), pixels()); }
std::vector<uint8_t> label_file(uint32_t n = 5) {
  std::vector<uint8_t> labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  return concat(idx_header(0x801, {n}), labels);
}

void expect_pixels(const torch::Tensor& x) {
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{5, 1, 3, 4}));
  ASSERT_EQ(x.scalar_type(), torch::kUInt8);
  const auto p = pixels();
  const auto flat = x.reshape({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) ASSERT_EQ(flat[i].item<int>(), p[i]) << "pixel " << i;
}

void expect_error(const std::string& path, const std::string& fragment) {
  try {
    read_idx_images(path);
    FAIL() << "no error for " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "message should name the file: " << e.what();
  }
}

}  // namespace

TEST(Idx, RawAndGzipGiveTheSamePixels) {
  const auto dir = scratch_dir("idx");
  write_raw(dir + "/img", image_file());
  write_gzip(dir + "/img.gz", image_file());
  expect_pixels(read_idx_images(dir + "/img"));
  expect_pixels(read_idx_images(dir + "/img.gz"));
}

TEST(Idx, LabelsAndDataSpec) {
  const auto dir = scratch_dir("idx");
  write_gzip(dir + "/img.gz", image_file());
  write_raw(dir + "/lab", label_file());
  auto y = read_idx_labels(dir + "/lab");
  ASSERT_EQ(y.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(y, torch::arange(5, torch::kInt64)));
  auto d = load_dataset("idx:" + dir + "/img.gz," + dir + "/lab");
  EXPECT_EQ(d.size(), 5);
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{1, 3, 4}));
  // Model range: 0 -> -1, 255 would be +1; pixel 4 (index 1) -> 4/127.5 - 1.
  auto b = d.batch(torch::tensor({0, 1}, torch::kInt64));
  EXPECT_FLOAT_EQ(b[0][0][0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(b[0][0][0][1].item<float>(), static_cast<float>(4 / 127.5 - 1));
}

TEST(Idx, CountMismatchBetweenImagesAndLabels) {
  const auto dir = scratch_dir("idx");
  write_raw(dir + "/img", image_file());
  write_raw(dir + "/lab", label_file(6));
  try {
    load_dataset("idx:" + dir + "/img," + dir + "/lab");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("6 labels"), std::string::npos) << e.what();
  }
}

TEST(Idx, WrongMagic) {
  const auto dir = scratch_dir("idx");
  write_raw(dir + "/lab", label_file());
  expect_error(dir + "/lab", "bad magic number 0x00000801");
  write_gzip(dir + "/text.gz", {'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
  expect_error(dir + "/text.gz", "bad magic");
}

TEST(Idx, TruncatedRaw) {
  const auto dir = scratch_dir("idx");
  auto bytes = image_file();
  bytes.resize(bytes.size() - 7);
  write_raw(dir + "/img", bytes);
  expect_error(dir + "/img", "header declares 60 bytes of data but the file holds 53");
  write_raw(dir + "/short", {0, 0, 8});
  expect_error(dir + "/short", "too short");
}

TEST(Idx, TrailingBytes) {
  const auto dir = scratch_dir("idx");
  write_raw(dir + "/img", concat(image_file(), {1}));
  expect_error(dir + "/img", "the file holds 61");
  write_gzip(dir + "/img.gz", concat(image_file(), {1}));
  expect_error(dir + "/img.gz", "past the 60 bytes");
}

TEST(Idx, TruncatedGzipPayload) {
  // The compressed stream cut in the middle of the pixels: gzread just returns fewer bytes.
  const auto dir = scratch_dir("idx");
  std::vector<uint8_t> big = concat(idx_header(0x803, {100, 28, 28}), std::vector<uint8_t>(78400));
  for (size_t i = 16; i < big.size(); ++i) big[i] = static_cast<uint8_t>((i * 7919) >> 3);  // poorly compressible
  write_gzip(dir + "/full.gz", big);
  const auto size = std::filesystem::file_size(dir + "/full.gz");
  std::filesystem::copy_file(dir + "/full.gz", dir + "/cut.gz");
  std::filesystem::resize_file(dir + "/cut.gz", size / 2);
  EXPECT_EQ(read_idx_images(dir + "/full.gz").size(0), 100);
  expect_error(dir + "/cut.gz", "truncated");
}

TEST(Idx, GzipMissingOnlyItsTrailer) {
  // All pixels decompress, only the CRC/length trailer is gone: zlib reports it only at gzclose/gzerror.
  const auto dir = scratch_dir("idx");
  write_gzip(dir + "/img.gz", image_file());
  std::filesystem::resize_file(dir + "/img.gz", std::filesystem::file_size(dir + "/img.gz") - 8);
  expect_error(dir + "/img.gz", "gzip");
}

TEST(Idx, HugeHeaderCountFailsFastWithoutAllocating) {
  // 2^31 - 1 images of 28x28 exceed the 4 GiB cap: refused from the header alone.
  const auto dir = scratch_dir("idx");
  write_gzip(dir + "/huge.gz", concat(idx_header(0x803, {0x7fffffffu, 28, 28}), std::vector<uint8_t>(784)));
  expect_error(dir + "/huge.gz", "overflow");
  // 2^22 images of 28x28 (3.1 GiB) pass the cap; the tiny gzip stream runs out long before that much is
  // allocated: the buffer grows only with data that actually arrives.
  write_gzip(dir + "/big.gz", concat(idx_header(0x803, {1u << 22, 28, 28}), std::vector<uint8_t>(784)));
  write_raw(dir + "/big", concat(idx_header(0x803, {1u << 22, 28, 28}), std::vector<uint8_t>(784)));
  const auto start = std::chrono::steady_clock::now();
  expect_error(dir + "/big.gz", "the stream holds 784");
  expect_error(dir + "/big", "the file holds 784");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
}

TEST(Idx, DimensionProductOverflow) {
  // 65536^3 = 2^48 overflows any sane size; 2^32-1 dims are refused individually.
  const auto dir = scratch_dir("idx");
  write_raw(dir + "/a", idx_header(0x803, {65536, 65536, 65536}));
  expect_error(dir + "/a", "overflow");
  write_raw(dir + "/b", idx_header(0x803, {0xffffffffu, 1, 1}));
  expect_error(dir + "/b", "expected 1..2^31-1");
  write_raw(dir + "/c", idx_header(0x803, {0, 28, 28}));
  expect_error(dir + "/c", "dimension 0 is 0");
}

TEST(Idx, MissingFile) {
  expect_error(scratch_dir("idx") + "/nothing.gz", "no such file");
}

TEST(Idx, RealFashionMnistTestSplit) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  DataOptions o;
  o.split = "test";
  const auto d = load_dataset("fashion-mnist", o);
  EXPECT_EQ(d.name, "fashion-mnist/test");
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  ASSERT_TRUE(d.labels.defined());
  EXPECT_EQ(d.labels.min().item<int64_t>(), 0);
  EXPECT_EQ(d.labels.max().item<int64_t>(), 9);
  // The test split is balanced: 1,000 images per class.
  EXPECT_TRUE(torch::equal(torch::bincount(d.labels), torch::full({10}, 1000, torch::kInt64)));
  EXPECT_GT(d.images.to(torch::kFloat32).mean().item<double>(), 40.0);  // not all black (mean is ~73)
}
