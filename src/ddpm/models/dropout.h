// Inverted dropout (keep with probability 1 - p, scale kept values by 1/(1 - p)) whose CPU mask comes
// from a counter-based generator filled in parallel. LibTorch 1.13's CPU bernoulli_ draws one element at a
// time from a single mt19937 (about 11 ns per element, one core); for the fashion U-Net at batch 64 that was
// ~15% of a training step. The mask's seed is drawn from LibTorch's default CPU generator, so a seed (and
// the trainer's saved generator state) still fixes every mask. Other devices and dtypes use torch::dropout.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "ddpm/core/random.h"

namespace ddpm {

// One mask: element i of the tensor it covers, counted in the row-major order of its shape whatever its
// memory layout (so the fused normalisation on channels-last activations and this dropout on any layout
// draw the same masks), is multiplied by mask(i). A pure function of i, so the fused normalisation (group_norm_silu.h) applies it without storing
// it and recomputes it for the backward pass.
struct DropoutMask {
  uint64_t seed = 0;
  uint64_t threshold = 0;  // drop where the element's 64-bit draw is below p·2⁶⁴
  float scale = 1.0f;      // 1 / (1 - p)

  float operator()(int64_t i) const {
    constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;  // element i of a SplitMix64 stream (core/random.h)
    return splitmix64(seed + static_cast<uint64_t>(i) * kGolden) < threshold ? 0.0f : scale;
  }
};

// A new mask for probability p in (0, 1), its seed drawn from LibTorch's default CPU generator.
DropoutMask draw_dropout_mask(double p);

// x unchanged when !training or p == 0; otherwise x * mask (autograd flows through the product).
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace ddpm
