// The random-number state a checkpoint must hold for a resumed run to draw exactly what an uninterrupted
// one would: the trainer's own generator (t, ε, flips) and the device's default generator, from which
// LibTorch's dropout draws its masks (it offers no way to pass a generator to dropout).
#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ddpm {

// The generator dropout draws from on `device`.
at::Generator dropout_generator(const c10::Device& device);

// Seeds the dropout generator: in a data-parallel group each rank derives its masks from (run seed, rank,
// step), because a checkpoint holds rank 0's generator state only.
void seed_dropout(const c10::Device& device, uint64_t run_seed, int64_t rank, int64_t step);

// The named state tensors of the trainer's generator and the dropout generator ("rng.trainer",
// "rng.default"), stored beside Adam's state.
std::vector<std::pair<std::string, torch::Tensor>> rng_state_tensors(at::Generator& trainer_gen, const c10::Device& device);

// Whether a stored tensor's name belongs to rng_state_tensors.
bool is_rng_state(const std::string& name);

// Restores what rng_state_tensors stored; throws naming `source` and the missing entry.
void restore_rng_states(const std::map<std::string, torch::Tensor>& tensors, at::Generator& trainer_gen,
                        const c10::Device& device, const std::string& source);

}  // namespace ddpm
