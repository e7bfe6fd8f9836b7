// Distances between two point sets [n, d], used to compare samples with the truth:
//  - sliced Wasserstein-2: SW2² = E_θ W2²(θᵀX, θᵀY) over uniform directions θ on the sphere, estimated with
//    P directions drawn from the caller's generator; each 1-D W2 is exact (sorted quantiles);
//  - MMD² with the Gaussian kernel k(x, y) = exp(-‖x - y‖² / (2h²)), the unbiased U-statistic
//    (Gretton et al. 2012, eq. 3), which is 0 in expectation when both sets come from one distribution.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace ddpm {

// SW2 (not squared) between equally sized sets. Both sets are projected on the same directions.
double sliced_wasserstein2(const torch::Tensor& x, const torch::Tensor& y, int64_t projections, at::Generator& gen);

// Unbiased MMD² (may be slightly negative); bandwidth h > 0. Computed in blocks, O(n²) time, O(n) memory.
double mmd2_unbiased(const torch::Tensor& x, const torch::Tensor& y, double bandwidth);

}  // namespace ddpm
