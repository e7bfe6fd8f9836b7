// The --device flag (see device.h).
#include "ddpm/runtime/device.h"

#include <stdexcept>

namespace ddpm {

c10::Device parse_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("unknown device '{}' (use cpu or cuda)", name));
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument(
        fmt::format("device '{}': this LibTorch build has no CUDA, or no GPU is visible", name));
  return device;
}

}  // namespace ddpm
