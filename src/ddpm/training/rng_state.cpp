#include "ddpm/training/rng_state.h"

#include <ATen/Context.h>

#include <mutex>
#include <stdexcept>

#include "ddpm/core/random.h"

namespace ddpm {
namespace {

constexpr const char* kRngPrefix = "rng.";
constexpr const char* kTrainerKey = "rng.trainer";
constexpr const char* kDropoutKey = "rng.default";

torch::Tensor generator_state(at::Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state().clone();
}

void set_generator_state(at::Generator& gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

at::Generator dropout_generator(const c10::Device& device) {
  return at::globalContext().defaultGenerator(device.is_cuda() ? device : c10::Device(c10::kCPU));
}

void seed_dropout(const c10::Device& device, uint64_t run_seed, int64_t rank, int64_t step) {
  auto gen = dropout_generator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(derive_seed(derive_seed(run_seed, static_cast<uint64_t>(rank)), static_cast<uint64_t>(step)));
}

std::vector<std::pair<std::string, torch::Tensor>> rng_state_tensors(at::Generator& trainer_gen, const c10::Device& device) {
  auto dropout = dropout_generator(device);
  return {{kTrainerKey, generator_state(trainer_gen)}, {kDropoutKey, generator_state(dropout)}};
}

bool is_rng_state(const std::string& name) { return name.rfind(kRngPrefix, 0) == 0; }

void restore_rng_states(const std::map<std::string, torch::Tensor>& tensors, at::Generator& trainer_gen,
                        const c10::Device& device, const std::string& source) {
  auto need = [&](const std::string& name) {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error(fmt::format("checkpoint '{}' lacks {}", source, name));
    return it->second;
  };
  set_generator_state(trainer_gen, need(kTrainerKey));
  auto dropout = dropout_generator(device);
  set_generator_state(dropout, need(kDropoutKey));
}

}  // namespace ddpm
