#include "ddpm/runtime/precision.h"

#include <stdexcept>

#include <fmt/format.h>

#ifdef DDPM_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace ddpm {

std::string precision_name(Precision precision) { return precision == Precision::bf16 ? "bf16" : "fp32"; }

std::vector<std::string> precision_choices() { return {"auto", "fp32", "bf16"}; }

bool has_native_bf16(c10::Device device) {
  if (device.is_cpu()) {
#if defined(__x86_64__) && defined(__GNUC__)
    // Every CPU with AMX also has AVX512-BF16 (and clang 14 knows no "amx-bf16" feature string).
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
  }
#ifdef DDPM_WITH_CUDA
  if (device.is_cuda()) return at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0)->major >= 8;
#endif
  return false;
}

Precision resolve_precision(const std::string& name, c10::Device device, bool bf16_pays) {
  if (name == "fp32") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  if (name == "auto") return bf16_pays && has_native_bf16(device) ? Precision::bf16 : Precision::fp32;
  throw std::invalid_argument(fmt::format("unknown precision '{}' (choose auto, fp32 or bf16)", name));
}

}  // namespace ddpm
