// Peak memory of this process on a device, for `ddpm bench`.
#pragma once

#include <c10/core/Device.h>

namespace ddpm {

// CPU: the resident-set high-water mark (getrusage ru_maxrss), the whole process since it started.
// CUDA: the caching allocator's peak allocated bytes on the device (CUDA builds of LibTorch only).
double peak_memory_mb(const c10::Device& device);

}  // namespace ddpm
