// The --device flag: "cpu" or "cuda[:N]", checked against what this LibTorch build can run.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace ddpm {

// Throws std::invalid_argument for an unknown name, and for cuda when LibTorch has no CUDA or sees no GPU.
c10::Device parse_device(const std::string& name);

}  // namespace ddpm
