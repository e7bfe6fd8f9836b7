// Matrix-product peak (see matmul_peak.h).
#include "ddpm/benchmark/matmul_peak.h"

#include <stdexcept>

#include "ddpm/benchmark/timing.h"
#include "ddpm/runtime/cpu_runtime.h"

namespace ddpm {
namespace {

// GFLOP/s of `product` (2n³ FLOPs) after one checked warm-up call.
double rate(const std::function<torch::Tensor()>& product, int64_t n, const c10::Device& device, int repeats,
            const char* what) {
  if (!torch::isfinite(product()).all().item<bool>())
    throw std::runtime_error(fmt::format("matrix-product benchmark: non-finite {} result at n = {}", what, n));
  const double seconds = best_seconds_per_call([&] { product(); }, device, repeats, 1);
  return 2.0 * static_cast<double>(n) * n * n / seconds * 1e-9;
}

}  // namespace

MatmulPeak matmul_peak(const c10::Device& device, const std::vector<int64_t>& sizes, int repeats, c10::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  // The BLAS at the same thread count as LibTorch (configure_cpu_runtime gives OpenBLAS one thread
  // otherwise, see cpu_runtime.h), so that its peak is not understated.
  const int blas = blas_threads();
  if (blas > 0) set_blas_threads(torch::get_num_threads());
  MatmulPeak peak;
  for (const int64_t n : sizes) {
    const auto options = torch::TensorOptions().dtype(dtype).device(device);
    auto a = torch::rand({n, n}, options), b = torch::rand({n, n}, options), c = torch::empty({n, n}, options);
    peak.mm_gflops = std::max(peak.mm_gflops, rate([&] { return torch::mm_out(c, a, b); }, n, device, repeats, "mm"));
    auto x = torch::rand({1, n, n, 1}, options), w = torch::rand({n, n, 1, 1}, options);
    peak.conv1x1_gflops =
        std::max(peak.conv1x1_gflops, rate([&] { return torch::conv2d(x, w); }, n, device, repeats, "1x1 convolution"));
  }
  if (blas > 0) set_blas_threads(blas);
  return peak;
}

}  // namespace ddpm
