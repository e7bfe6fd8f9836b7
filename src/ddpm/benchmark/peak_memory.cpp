// Peak memory (see peak_memory.h). DDPM_WITH_CUDA is defined by CMake when LibTorch has CUDA libraries;
// without them the CUDA branch compiles away (parse_device already refuses cuda on such builds).
#include "ddpm/benchmark/peak_memory.h"

#include <sys/resource.h>

#include <stdexcept>

#ifdef DDPM_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ddpm {

double peak_memory_mb(const c10::Device& device) {
  if (device.is_cuda()) {
#ifdef DDPM_WITH_CUDA
    // allocated_bytes holds one figure per memory pool, and index 0 is all of them together
    // (StatType::AGGREGATE, whose namespace moved between LibTorch 2 versions while its value stayed).
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
#else
    throw std::runtime_error("peak memory on cuda: this build of ddpm has no CUDA support");
#endif
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

}  // namespace ddpm
