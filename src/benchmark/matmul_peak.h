// The measured matrix-product peak of a device at the current thread count: the denominator of MFU.
// Measured rather than taken from a datasheet because these machines are shared virtual CPUs whose
// clock and vector units are not known, and the peak that counts is the one LibTorch's BLAS reaches.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace ddpm {

// Best GFLOP/s of float32 n×n by n×n products (2n³ FLOPs) over the given sizes and `repeats` timed
// repeats each. Throws if a product is not finite.
double matmul_peak_gflops(const c10::Device& device, const std::vector<int64_t>& sizes, int repeats);

}  // namespace ddpm
