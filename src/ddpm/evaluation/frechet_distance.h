// The Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017; "FID" when the
// features are Inception's):
//   d² = ‖μ₁ - μ₂‖² + tr Σ₁ + tr Σ₂ - 2 tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}.
// tr (Σ₁Σ₂)^{1/2} equals tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}, whose argument is symmetric positive semi-definite,
// so both roots are symmetric eigendecompositions in float64: no complex parts (scipy.linalg.sqrtm's
// failure mode on near-singular covariances of small sample sets), no iteration to converge.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ddpm {

struct FeatureStatistics {
  torch::Tensor mean;        // float64 [d]
  torch::Tensor covariance;  // float64 [d, d], unbiased (divides by n - 1)
  int64_t count = 0;         // n
};

// Mean and covariance of features [n, d], n >= 2.
FeatureStatistics feature_statistics(const torch::Tensor& features);

// The symmetric positive semi-definite square root of a symmetric matrix [d, d] (float64): V √Λ Vᵀ from
// its eigendecomposition, eigenvalues below zero (rounding) clamped to zero.
torch::Tensor symmetric_sqrt(const torch::Tensor& a);

// d² of the formula above (the quantity FID reports), never negative.
double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b);

}  // namespace ddpm
