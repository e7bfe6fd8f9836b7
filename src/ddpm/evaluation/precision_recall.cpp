// k-NN manifold precision and recall; distances in float64 blocks so memory stays O(block · n).
#include "ddpm/evaluation/precision_recall.h"

#include <stdexcept>

namespace ddpm {
namespace {

constexpr int64_t kBlockRows = 1024;

void check_points(const torch::Tensor& p, const char* what) {
  if (p.dim() != 2) throw std::invalid_argument(fmt::format("{} must be a [n, d] matrix, got {} dimensions", what, p.dim()));
}

}  // namespace

torch::Tensor knn_radii(const torch::Tensor& points, int64_t k) {
  check_points(points, "points");
  const int64_t n = points.size(0);
  if (k < 1 || k >= n)
    throw std::invalid_argument(fmt::format("k-NN radii need 1 <= k < n (k = {}, n = {})", k, n));
  auto x = points.to(torch::kFloat64);
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    auto block = x.slice(0, begin, std::min(n, begin + kBlockRows));
    // The (k+1)-th smallest distance: the smallest is the point to itself (0).
    parts.push_back(std::get<0>(torch::cdist(block, x).kthvalue(k + 1, /*dim=*/1)));
  }
  return torch::cat(parts);
}

double manifold_coverage(const torch::Tensor& reference, const torch::Tensor& radii, const torch::Tensor& queries) {
  check_points(reference, "reference");
  check_points(queries, "queries");
  TORCH_CHECK(radii.dim() == 1 && radii.size(0) == reference.size(0), "one radius per reference point expected");
  auto ref = reference.to(torch::kFloat64);
  auto q = queries.to(torch::kFloat64);
  auto r = radii.to(torch::kFloat64);
  int64_t inside = 0;
  for (int64_t begin = 0; begin < q.size(0); begin += kBlockRows) {
    auto block = q.slice(0, begin, std::min(q.size(0), begin + kBlockRows));
    inside += torch::cdist(block, ref).le(r).any(1).sum().item<int64_t>();
  }
  return static_cast<double>(inside) / static_cast<double>(q.size(0));
}

PrecisionRecall precision_recall(const torch::Tensor& real, const torch::Tensor& generated, int64_t k) {
  PrecisionRecall pr;
  pr.precision = manifold_coverage(real, knn_radii(real, k), generated);
  pr.recall = manifold_coverage(generated, knn_radii(generated, k), real);
  return pr;
}

}  // namespace ddpm
