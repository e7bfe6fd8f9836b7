// Fuzz target: the CIFAR-10 batch reader. The input itself (almost never the exact 30,730,000 bytes: the
// size rule) and the input laid over the start of an all-zero batch of the exact size (the label rule and
// the decoding) are each read or rejected with std::runtime_error.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "ddpm/data/cifar10_reader.h"
#include "fuzz_input.h"

namespace {

// The exact-size batch file, created once; each input is written over its start and then zeroed again.
const std::string& full_batch() {
  static const std::string path = [] {
    const std::vector<uint8_t> zeros(ddpm::kCifarBatchBytes, 0);
    return ddpm::fuzz::write_input("full/data_batch_1.bin", zeros.data(), zeros.size());
  }();
  return path;
}

void overwrite(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    ddpm::read_cifar10_batch(ddpm::fuzz::write_input("raw/data_batch_1.bin", data, size));
  } catch (const std::runtime_error&) {
  }
  const size_t n = std::min<size_t>(size, ddpm::kCifarBatchBytes);
  overwrite(full_batch(), data, n);
  try {
    const auto batch = ddpm::read_cifar10_batch(full_batch());
    if (batch.images.size(0) != ddpm::kCifarRecords || batch.labels.max().item<int64_t>() > 9) std::abort();
  } catch (const std::runtime_error&) {
  }
  const std::vector<uint8_t> zeros(n, 0);
  overwrite(full_batch(), zeros.data(), n);
  return 0;
}
