// Refusing work that cannot fit: a command whose estimated memory exceeds the machine's stops at once with
// one line saying how much it needs and what lowers it, instead of swapping for minutes or dying in the
// allocator with a message that names nothing.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "ddpm/models/model_config.h"

namespace ddpm {

// The machine's physical memory in bytes (0 if unknown).
int64_t physical_memory_bytes();

// Throws std::runtime_error when `batch` samples through `model` (training: with gradients, Adam and the
// EMA copy) would need more than the physical memory. Only checked on the CPU, whose memory is the
// machine's; `remedy` says what lowers the need (e.g. "lower the batch size").
void check_batch_fits(const ModelConfig& model, int64_t batch, bool training, const c10::Device& device,
                      const std::string& remedy);

}  // namespace ddpm
