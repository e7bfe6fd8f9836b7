// Parallel counter-based dropout masks (see dropout.h).
#include "ddpm/models/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

namespace ddpm {

DropoutMask draw_dropout_mask(double p) {
  DropoutMask mask;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    mask.seed = gen.get<at::CPUGeneratorImpl>()->random64();
  }
  mask.threshold = static_cast<uint64_t>(std::ldexp(p, 64));
  mask.scale = static_cast<float>(1.0 / (1.0 - p));
  return mask;
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32) return torch::dropout(x, p, /*train=*/true);
  const DropoutMask draw = draw_dropout_mask(p);
  auto mask = torch::empty(x.sizes(), x.options());  // row-major, whatever x's layout (dropout.h)
  float* m = mask.data_ptr<float>();
  at::parallel_for(0, mask.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) m[i] = draw(i);
  });
  return x * mask;
}

}  // namespace ddpm
