// Generators for any device, without including CUDA headers: clone the device's default generator.
#include "ddpm/core/random.h"

#include <ATen/Context.h>

namespace ddpm {

at::Generator make_generator(uint64_t seed, c10::Device device) {
  auto gen = at::globalContext().defaultGenerator(device).clone();
  gen.set_current_seed(seed);
  return gen;
}

uint64_t derive_seed(uint64_t a, uint64_t b) { return splitmix64(a ^ splitmix64(b)); }

}  // namespace ddpm
