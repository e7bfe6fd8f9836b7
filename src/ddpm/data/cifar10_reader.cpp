// CIFAR-10 binary batches: the fixed record layout lets the size check come before any reading.
#include "ddpm/data/cifar10_reader.h"
#include "ddpm/io/input_file.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ddpm {

CifarBatch read_cifar10_batch(const std::string& path) {
  namespace fs = std::filesystem;
  require_regular_file(path);
  const auto size = fs::file_size(path);
  if (size != static_cast<uint64_t>(kCifarBatchBytes))
    throw std::runtime_error(fmt::format(
        "{}: {} bytes, but a CIFAR-10 binary batch is exactly {} bytes ({} records of {})", path, size,
        kCifarBatchBytes, kCifarRecords, kCifarRecordBytes));
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> raw(kCifarBatchBytes);
  if (!in.read(reinterpret_cast<char*>(raw.data()), kCifarBatchBytes))
    throw std::runtime_error(fmt::format("{}: read failed", path));

  CifarBatch out{torch::empty({kCifarRecords, 3, 32, 32}, torch::kUInt8),
                 torch::empty({kCifarRecords}, torch::kInt64)};
  auto* pixels = out.images.data_ptr<uint8_t>();
  auto* labels = out.labels.data_ptr<int64_t>();
  constexpr int64_t image_bytes = kCifarRecordBytes - 1;
  for (int64_t r = 0; r < kCifarRecords; ++r) {
    const uint8_t* rec = raw.data() + r * kCifarRecordBytes;
    if (rec[0] > 9)
      throw std::runtime_error(fmt::format("{}: record {} has label {}, expected 0-9", path, r, rec[0]));
    labels[r] = rec[0];
    std::copy(rec + 1, rec + kCifarRecordBytes, pixels + r * image_bytes);
  }
  return out;
}

std::vector<std::string> cifar10_files(const std::string& dir, const std::string& split) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw std::runtime_error(fmt::format("{}: no such directory", dir));
  // The official archive unpacks into cifar-10-batches-bin/; accept its parent too.
  fs::path root = dir;
  if (!fs::exists(root / "test_batch.bin") && fs::exists(root / "cifar-10-batches-bin" / "test_batch.bin"))
    root /= "cifar-10-batches-bin";
  if (split == "test") return {(root / "test_batch.bin").string()};
  if (split != "train")
    throw std::invalid_argument(fmt::format("unknown split '{}', expected train or test", split));
  std::vector<std::string> files;
  for (int i = 1; i <= 5; ++i) files.push_back((root / fmt::format("data_batch_{}.bin", i)).string());
  return files;
}

}  // namespace ddpm
