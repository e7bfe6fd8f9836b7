// Sliced W2 and the unbiased Gaussian-kernel MMD².
#include "ddpm/evaluation/point_distances.h"

namespace ddpm {
namespace {

void check_sets(const torch::Tensor& x, const torch::Tensor& y) {
  TORCH_CHECK(x.dim() == 2 && y.dim() == 2 && x.size(1) == y.size(1), "point sets must be [n, d] and [m, d], got ",
              x.sizes(), " and ", y.sizes());
  TORCH_CHECK(x.size(0) >= 2 && y.size(0) >= 2, "point sets need at least 2 points each");
}

// Σ_{i,j} k(a_i, b_j), in row blocks so that 10⁴ × 10⁴ kernels never sit in memory at once.
double kernel_sum(const torch::Tensor& a, const torch::Tensor& b, double bandwidth) {
  constexpr int64_t block = 2048;
  const double scale = -0.5 / (bandwidth * bandwidth);
  double total = 0.0;
  for (int64_t i = 0; i < a.size(0); i += block) {
    auto rows = a.slice(0, i, std::min(i + block, a.size(0)));
    total += torch::exp(scale * torch::cdist(rows, b).pow(2)).sum().item<double>();
  }
  return total;
}

}  // namespace

double sliced_wasserstein2(const torch::Tensor& x, const torch::Tensor& y, int64_t projections, at::Generator& gen) {
  check_sets(x, y);
  TORCH_CHECK(x.size(0) == y.size(0), "sliced W2 needs equally sized sets, got ", x.size(0), " and ", y.size(0));
  TORCH_CHECK(projections >= 1, "projections must be >= 1, got ", projections);
  auto theta = torch::randn({x.size(1), projections}, gen, torch::kFloat64);
  theta = theta / theta.norm(2, 0, true);  // uniform on the sphere
  auto px = std::get<0>(torch::sort(torch::matmul(x.to(torch::kFloat64), theta), 0));
  auto py = std::get<0>(torch::sort(torch::matmul(y.to(torch::kFloat64), theta), 0));
  return std::sqrt((px - py).pow(2).mean().item<double>());
}

double mmd2_unbiased(const torch::Tensor& x, const torch::Tensor& y, double bandwidth) {
  check_sets(x, y);
  TORCH_CHECK(bandwidth > 0.0, "MMD bandwidth must be > 0, got ", bandwidth);
  auto a = x.to(torch::kFloat64), b = y.to(torch::kFloat64);
  const double m = static_cast<double>(a.size(0)), n = static_cast<double>(b.size(0));
  // The diagonal terms k(x_i, x_i) = 1 are what the unbiased estimator leaves out.
  const double xx = (kernel_sum(a, a, bandwidth) - m) / (m * (m - 1.0));
  const double yy = (kernel_sum(b, b, bandwidth) - n) / (n * (n - 1.0));
  const double xy = kernel_sum(a, b, bandwidth) / (m * n);
  return xx + yy - 2.0 * xy;
}

}  // namespace ddpm
