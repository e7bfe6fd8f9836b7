// bf16 mixed precision for the networks, the recipe of Micikevicius et al. 2018 in bf16 (whose fp32-sized
// exponent needs no loss scaling): the weights stay fp32, so the optimizer, EMA and model files see fp32
// only; the products (convolutions, linear layers, attention's two matrix products) take bf16 copies of
// their weights, and the activations between them stay bf16, as under PyTorch's autocast: residual sums,
// skip concatenations and upsampling run on bf16, and the fused GroupNorm → SiLU (group_norm_silu.h) reads
// bf16 and writes bf16 while computing its statistics in fp32. A network's output, the time embedding, the
// loss and the optimizer are fp32. LibTorch's own autocast is not used: it passes bf16 activations into
// LibTorch 1.13's group_norm, which runs them 4-14x slower than fp32 and refuses them with fp32 weights.
// Keeping the activations in bf16 removed the casts that were a quarter of a bf16 training step
// (docs/PERFORMANCE.md). On the CPU the convolutions run channels-last (NHWC) in both precisions: their inputs
// and bf16 weight copies are laid out so, and the layout then carries through the network. oneDNN's bf16
// kernels for [N, C, H, W] tensors were 1.2-13× slower on the U-Nets' shapes (fp32: up to 3.5×).
//
// The precision is a scope, as LibTorch's autocast is: a PrecisionScope on the calling thread sets it for
// every network forward (and the backward pass of what it recorded) inside it.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <unordered_map>

#include "ddpm/runtime/precision.h"

namespace ddpm {

// bf16 copies of a network's parameters, made once where the weights do not change while it runs
// (sampling, evaluation), instead of once per layer call: at batch 1 those casts cost a third of a call.
class Bf16Weights {
 public:
  explicit Bf16Weights(const torch::nn::Module& net);
  // The copy of `weight`, or an undefined tensor for a tensor that is not one of the network's parameters
  // or that changed since the copy was made (its version counter moved on: an optimizer step, a copy_).
  torch::Tensor find(const torch::Tensor& weight) const;

 private:
  struct Copy {
    int64_t version;
    torch::Tensor bf16;
  };
  std::unordered_map<const c10::TensorImpl*, Copy> copies_;
};

class PrecisionScope {
 public:
  // `weights` (optional, bf16 only): the network's parameters in bf16, kept alive by the caller.
  explicit PrecisionScope(Precision precision, const Bf16Weights* weights = nullptr);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision previous_;
  const Bf16Weights* previous_weights_;
};

// The precision of the innermost scope on this thread; fp32 outside any.
Precision compute_precision();

// The layer applied in the compute precision; the result is in the compute precision too (bf16 or fp32).
// A convolution's result on the CPU is channels-last.
torch::Tensor apply_conv(const torch::nn::Conv2d& conv, const torch::Tensor& x);
torch::Tensor apply_linear(const torch::nn::Linear& linear, const torch::Tensor& x);

// x in the compute precision (bf16 or unchanged), for products the networks make themselves (attention).
torch::Tensor in_compute_precision(const torch::Tensor& x);

}  // namespace ddpm
