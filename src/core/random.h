// Random-number generators owned by the caller: every stochastic function in ddpm takes one,
// so a seed fixes a whole run (only the CLI chooses seeds).
#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace ddpm {

// A fresh generator for `device` (CPU or CUDA), seeded with `seed`.
at::Generator make_generator(uint64_t seed, c10::Device device = c10::Device(c10::kCPU));

}  // namespace ddpm
