// Parallel counter-based dropout masks (see dropout.h).
#include "ddpm/models/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "ddpm/core/random.h"

namespace ddpm {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;  // element i of a SplitMix64 stream (core/random.h)

uint64_t draw_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32) return torch::dropout(x, p, /*train=*/true);
  const uint64_t seed = draw_seed();
  const auto threshold = static_cast<uint64_t>(std::ldexp(p, 64));  // drop when the 64-bit draw is below p·2⁶⁴
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  auto mask = torch::empty_like(x);  // dense, x's memory format: element i of memory pairs with x's element i
  float* m = mask.data_ptr<float>();
  at::parallel_for(0, mask.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) m[i] = splitmix64(seed + static_cast<uint64_t>(i) * kGolden) < threshold ? 0.0f : scale;
  });
  return x * mask;
}

}  // namespace ddpm
