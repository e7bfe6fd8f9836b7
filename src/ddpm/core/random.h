// Random-number generators owned by the caller: every stochastic function in ddpm takes one,
// so a seed fixes a whole run (only the CLI chooses seeds).
#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace ddpm {

// A fresh generator for `device` (CPU or CUDA), seeded with `seed`.
at::Generator make_generator(uint64_t seed, c10::Device device = c10::Device(c10::kCPU));

// SplitMix64 (Steele, Lea and Flood 2014): a bijective mix of x + γ, γ = 2⁶⁴/φ. Element i of the stream
// `seed` is splitmix64(seed + i·γ), so any range of a stream can be generated independently, on any thread
// (the dropout masks); inline because those loops call it once per element.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A seed derived from two numbers (a run seed and an epoch, a rank, a step...): SplitMix64's finaliser
// decorrelates nearby inputs, so seeds derived from (s, 0), (s, 1), ... give unrelated streams.
uint64_t derive_seed(uint64_t a, uint64_t b);

}  // namespace ddpm
