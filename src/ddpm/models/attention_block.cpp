// Spatial self-attention (see attention_block.h).
#include "ddpm/models/attention_block.h"

#include <torch/version.h>

#include "ddpm/models/mixed_precision.h"

namespace ddpm {

namespace nn = torch::nn;

AttentionBlockImpl::AttentionBlockImpl(int64_t channels, int64_t heads, int64_t norm_groups, double norm_eps)
    : heads_(heads) {
  group_norm = register_module("group_norm", nn::GroupNorm(nn::GroupNormOptions(norm_groups, channels).eps(norm_eps)));
  to_q = register_module("to_q", nn::Linear(channels, channels));
  to_k = register_module("to_k", nn::Linear(channels, channels));
  to_v = register_module("to_v", nn::Linear(channels, channels));
  // diffusers' to_out is [Linear, Dropout(0)]; only the Linear holds weights, hence the key to_out.0.
  auto to_out = register_module("to_out", nn::ModuleList());
  to_out_0 = nn::Linear(channels, channels);
  to_out->push_back(to_out_0);
}

// The products run in the compute precision (models/mixed_precision.h); before LibTorch 2 the softmax
// between them runs in fp32 (LibTorch 2's fused kernel keeps its own accumulation).
torch::Tensor scaled_dot_product(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const auto qc = in_compute_precision(q), kc = in_compute_precision(k), vc = in_compute_precision(v);
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(qc, kc, vc);
#else
  // The 1/√d scale applied to the product's result (diffusers folds it into baddbmm with β = 0, which LibTorch
  // 1.13's small-matrix kernel does not honour: it returned NaN scores now and then).
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::bmm(qc, kc.transpose(1, 2)).to(torch::kFloat32).mul_(scale);  // [B, N, N], scaled in fp32
  return torch::bmm(in_compute_precision(scores.softmax(-1)), vc);  // [B, N, d]
#endif
}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& x) {
  const auto B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const auto N = H * W, d = C / heads_;
  // Normalised in fp32 (LibTorch 1.13's group_norm refuses bf16 activations with fp32 weights; attention's maps
  // are small), then cast once for the three products.
  auto h = in_compute_precision(group_norm(x.to(torch::kFloat32)).view({B, C, N}).transpose(1, 2));  // [B, N, C]
  // Head j holds channels j·d .. j·d + d - 1 (diffusers' split): [B, N, C] ↔ [B·heads, N, d].
  const auto split = [&](const torch::Tensor& y) {
    return y.view({B, N, heads_, d}).transpose(1, 2).reshape({B * heads_, N, d});
  };
  auto o = scaled_dot_product(split(apply_linear(to_q, h)), split(apply_linear(to_k, h)), split(apply_linear(to_v, h)));
  o = o.view({B, heads_, N, d}).transpose(1, 2).reshape({B, N, C});
  return x + apply_linear(to_out_0, o).transpose(1, 2).reshape({B, C, H, W});
}

}  // namespace ddpm
