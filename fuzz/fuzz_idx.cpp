// Fuzz target: the IDX reader (raw or gzip), as images and as labels. Every file is read or rejected with
// std::runtime_error; a crash, a sanitizer report, another exception or a huge allocation is a finding.
#include <stdexcept>

#include "ddpm/data/idx_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ddpm::fuzz::write_input("input-idx3-ubyte.gz", data, size);
  for (auto read : {&ddpm::read_idx_images, &ddpm::read_idx_labels}) {
    try {
      read(path);
    } catch (const std::runtime_error&) {
    }
  }
  return 0;
}
