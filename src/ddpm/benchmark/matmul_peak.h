// The measured matrix-product peak of a device at the current thread count: the denominator of MFU.
// Measured rather than taken from a datasheet because these machines are shared virtual CPUs whose
// clock and vector units are not known, and the peak that counts is the one LibTorch's libraries reach.
// LibTorch has two matrix-product engines on the CPU: the BLAS (torch::mm; OpenBLAS on Debian) and
// oneDNN, which runs the convolutions; a 1×1 convolution is oneDNN's matrix product. Both are measured
// and the peak is the faster, so MFU is never flattered by a slow library.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ddpm {

struct MatmulPeak {
  double mm_gflops = 0;       // torch::mm, n×n by n×n
  double conv1x1_gflops = 0;  // the same product as a 1×1 convolution [1, n, n, 1] with n filters
  double gflops() const { return std::max(mm_gflops, conv1x1_gflops); }
};

// Best GFLOP/s (2n³ FLOPs per product) over the sizes and `repeats` timed repeats each, with operands of
// `dtype` (float32 or bfloat16). Throws if a product is not finite.
MatmulPeak matmul_peak(const c10::Device& device, const std::vector<int64_t>& sizes, int repeats,
                       c10::ScalarType dtype = c10::kFloat);

}  // namespace ddpm
