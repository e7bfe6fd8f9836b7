// Matrix-product peak (see matmul_peak.h).
#include "benchmark/matmul_peak.h"

#include <stdexcept>

#include "benchmark/timing.h"

namespace ddpm {

double matmul_peak_gflops(const c10::Device& device, const std::vector<int64_t>& sizes, int repeats) {
  torch::NoGradGuard no_grad;
  double best = 0.0;
  for (const int64_t n : sizes) {
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    auto a = torch::rand({n, n}, options), b = torch::rand({n, n}, options), c = torch::empty({n, n}, options);
    torch::mm_out(c, a, b);  // warm-up, and the output check
    if (!torch::isfinite(c).all().item<bool>())
      throw std::runtime_error(fmt::format("matrix-product benchmark: non-finite result at n = {}", n));
    const double seconds = best_seconds_per_call([&] { torch::mm_out(c, a, b); }, device, repeats, 1);
    best = std::max(best, 2.0 * static_cast<double>(n) * n * n / seconds * 1e-9);
  }
  return best;
}

}  // namespace ddpm
