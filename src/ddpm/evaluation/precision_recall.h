// Improved precision and recall of generative models (Kynkäänniemi et al. 2019), in a feature space:
// a set's manifold is the union of balls around its points, each with the radius of the distance to that
// point's k-th nearest neighbour within the set. Precision is the fraction of generated points inside the
// real manifold (are samples realistic?); recall the fraction of real points inside the generated
// manifold (is the data's variety covered?). The paper uses k = 3 and equally sized sets.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ddpm {

// Distance of each point of [n, d] to its k-th nearest neighbour in the same set (itself not counted): [n].
torch::Tensor knn_radii(const torch::Tensor& points, int64_t k);

// Fraction of `queries` [m, d] within radius_i of some reference point i ([n, d], radii [n]).
double manifold_coverage(const torch::Tensor& reference, const torch::Tensor& radii, const torch::Tensor& queries);

struct PrecisionRecall {
  double precision = 0.0;
  double recall = 0.0;
};

PrecisionRecall precision_recall(const torch::Tensor& real, const torch::Tensor& generated, int64_t k = 3);

}  // namespace ddpm
