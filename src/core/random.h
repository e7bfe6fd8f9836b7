// Random-number generators owned by the caller: every stochastic function in ddpm takes one,
// so a seed fixes a whole run (only the CLI chooses seeds).
#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace ddpm {

// A fresh generator for `device` (CPU or CUDA), seeded with `seed`.
at::Generator make_generator(uint64_t seed, c10::Device device = c10::Device(c10::kCPU));

// A seed derived from two numbers (a run seed and an epoch, a rank, a step...): SplitMix64's finaliser
// decorrelates nearby inputs, so seeds derived from (s, 0), (s, 1), ... give unrelated streams.
uint64_t derive_seed(uint64_t a, uint64_t b);

}  // namespace ddpm
