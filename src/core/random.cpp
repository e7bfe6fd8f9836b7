// Generators for any device, without including CUDA headers: clone the device's default generator.
#include "core/random.h"

#include <ATen/Context.h>

namespace ddpm {

at::Generator make_generator(uint64_t seed, c10::Device device) {
  auto gen = at::globalContext().defaultGenerator(device).clone();
  gen.set_current_seed(seed);
  return gen;
}

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t derive_seed(uint64_t a, uint64_t b) { return splitmix64(a ^ splitmix64(b)); }

}  // namespace ddpm
