// Random horizontal flips of image batches (Ho et al. used them for CIFAR-10 training).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace ddpm {

// A fair coin per example: bool [n], true = flip.
torch::Tensor random_flip_mask(int64_t n, at::Generator& gen);

// Mirrors left-right each image of [B, C, H, W] whose mask entry (bool [B]) is true.
torch::Tensor flip_where(const torch::Tensor& images, const torch::Tensor& mask);

}  // namespace ddpm
