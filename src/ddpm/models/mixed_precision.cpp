#include "ddpm/models/mixed_precision.h"

#include <torch/version.h>

namespace ddpm {
namespace {

thread_local Precision current = Precision::fp32;
thread_local const Bf16Weights* current_weights = nullptr;

torch::Tensor low(const torch::Tensor& x) { return x.to(torch::kBFloat16); }

// A convolution's 4-D operand laid out channels-last (NHWC) on the CPU, in either precision: oneDNN's
// kernels for that layout are the faster ones on the U-Nets' shapes (docs/PERFORMANCE.md). Other devices
// and shapes keep the layout they are given (not measured).
bool goes_channels_last(const torch::Tensor& x) { return x.is_cpu() && x.dim() == 4; }

// x as `dtype` in the convolutions' layout: one `to` for both (in bf16 measured faster than a cast followed
// by a change of layout).
torch::Tensor conv_operand(const torch::Tensor& x, torch::ScalarType dtype) {
  return goes_channels_last(x) ? x.to(dtype, false, false, at::MemoryFormat::ChannelsLast) : x.to(dtype);
}

// A parameter in bf16, a convolution's weight in its layout.
torch::Tensor low_weight(const torch::Tensor& p) { return p.dim() == 4 ? conv_operand(p, torch::kBFloat16) : low(p); }

// A layer's weight or bias in bf16: the scope's copy where it has one.
torch::Tensor low_parameter(const torch::Tensor& p) {
  if (!p.defined()) return p;
  if (current_weights)
    if (auto copy = current_weights->find(p); copy.defined()) return copy;
  return low_weight(p);
}

}  // namespace

Bf16Weights::Bf16Weights(const torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (const auto& p : net.parameters()) copies_.emplace(p.unsafeGetTensorImpl(), Copy{p._version(), low_weight(p)});
}

torch::Tensor Bf16Weights::find(const torch::Tensor& weight) const {
  const auto it = copies_.find(weight.unsafeGetTensorImpl());
  return it == copies_.end() || it->second.version != weight._version() ? torch::Tensor() : it->second.bf16;
}

PrecisionScope::PrecisionScope(Precision precision, const Bf16Weights* weights)
    : previous_(current), previous_weights_(current_weights) {
  current = precision;
  current_weights = weights;
}

PrecisionScope::~PrecisionScope() {
  current = previous_;
  current_weights = previous_weights_;
}

Precision compute_precision() { return current; }

torch::Tensor apply_conv(const torch::nn::Conv2d& conv, const torch::Tensor& x) {
  if (current == Precision::fp32) return conv.ptr()->forward(conv_operand(x, x.scalar_type()));
  const auto& o = conv->options;
  // Only zero padding is used by the networks (and is what at::conv2d does). The padding is a variant:
  // c10's own before LibTorch 2, std::variant since.
#if TORCH_VERSION_MAJOR >= 2
  const auto& padding = std::get<torch::ExpandingArray<2>>(o.padding());
#else
  const auto& padding = c10::get<torch::ExpandingArray<2>>(o.padding());
#endif
  return at::conv2d(conv_operand(x, torch::kBFloat16), low_parameter(conv->weight), low_parameter(conv->bias),
                    *o.stride(), padding, *o.dilation(), o.groups());
}

torch::Tensor apply_linear(const torch::nn::Linear& linear, const torch::Tensor& x) {
  if (current == Precision::fp32) return linear.ptr()->forward(x);
  return at::linear(low(x), low_parameter(linear->weight), low_parameter(linear->bias));
}

torch::Tensor in_compute_precision(const torch::Tensor& x) { return current == Precision::bf16 ? low(x) : x; }

}  // namespace ddpm
