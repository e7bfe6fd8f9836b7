// The fused GroupNorm → SiLU → dropout (models/group_norm_silu.h) against the three LibTorch operations it
// replaces: forward values, all three gradients, the dropout masks, bf16 in and out, extreme and NaN inputs.
// Tolerances: the fused kernel sums in a different order and computes e^x by its own polynomial (about 1 ulp),
// so fp32 results agree to a few ulp of the values' scale (1e-5 absolute on O(1) values; gradients 1e-4
// relative to their norm). bf16 results agree with the fp32 reference rounded to bf16 within one bf16 ulp
// (2⁻⁷ relative) plus the fp32 difference.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <utility>
#include <vector>

#include "ddpm/models/dropout.h"
#include "ddpm/models/group_norm_silu.h"
#include "ddpm/models/mixed_precision.h"

using namespace ddpm;

namespace {

// A GroupNorm with weights and biases away from their initial 1 and 0, so that a mix-up shows.
torch::nn::GroupNorm make_norm(int64_t groups, int64_t channels, double gamma_scale = 1.0) {
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(groups, channels).eps(1e-5));
  torch::NoGradGuard no_grad;
  norm->weight.copy_(gamma_scale * (1.0 + 0.5 * torch::randn({channels})));
  norm->bias.copy_(0.3 * torch::randn({channels}));
  return norm;
}

torch::Tensor reference(const torch::nn::GroupNorm& norm, const torch::Tensor& x, double p, bool training) {
  return ddpm::dropout(torch::silu(norm.ptr()->forward(x)), p, training);
}

double max_abs(const torch::Tensor& a) { return a.abs().max().item<double>(); }

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm()).item<double>();
}

struct Gradients {
  torch::Tensor x, gamma, beta;
};

// The gradients of Σ w·f(x) for a fixed random w, through the fused op or the reference.
template <typename F>
Gradients gradients(torch::nn::GroupNorm& norm, const torch::Tensor& x0, const torch::Tensor& w, F f) {
  auto x = x0.detach().clone().requires_grad_(true);
  norm->zero_grad();
  (f(x).to(torch::kFloat32) * w).sum().backward();
  return {x.grad().clone(), norm->weight.grad().clone(), norm->bias.grad().clone()};
}

}  // namespace

// Shapes with a channel length that leaves a tail after the 16-wide partial sums, several channels per group
// and one channel per group, a 2-D input (no spatial axes), and one large enough to be split between threads.
TEST(GroupNormSiLU, ForwardAndGradientsMatchLibTorch) {
  torch::manual_seed(0);
  for (const auto& shape :
       std::vector<std::vector<int64_t>>{{3, 8, 5, 7}, {2, 4, 16, 16}, {5, 24}, {1, 32, 3, 3}, {8, 64, 16, 16}}) {
    const int64_t channels = shape[1], groups = channels == 24 ? 3 : channels == 4 || channels == 8 ? 4 : 32;
    auto norm = make_norm(groups, channels);
    const auto x = 2.0 * torch::randn(shape) + 0.7;
    const auto y = group_norm_silu(norm, x);
    ASSERT_EQ(y.scalar_type(), torch::kFloat32);
    EXPECT_LT(max_abs(y - reference(norm, x, 0.0, false)), 1e-5) << c10::IntArrayRef(shape);

    const auto w = torch::randn(shape);
    const auto fused = gradients(norm, x, w, [&](const torch::Tensor& v) { return group_norm_silu(norm, v); });
    const auto exact = gradients(norm, x, w, [&](const torch::Tensor& v) { return reference(norm, v, 0.0, false); });
    EXPECT_LT(relative_error(fused.x, exact.x), 1e-4) << c10::IntArrayRef(shape);
    EXPECT_LT(relative_error(fused.gamma, exact.gamma), 1e-4) << c10::IntArrayRef(shape);
    EXPECT_LT(relative_error(fused.beta, exact.beta), 1e-4) << c10::IntArrayRef(shape);
  }
}

// LibTorch's intra-op thread count for a scope.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : previous_(at::get_num_threads()) { at::set_num_threads(threads); }
  ~ThreadCount() { at::set_num_threads(previous_); }

 private:
  int previous_;
};

// Channels-last inputs (the CPU convolutions' layout) keep their layout and give the same values, gradients
// and dropout masks (counted in [N, C, H, W] order, as models/dropout.h) as LibTorch's operations on the
// same tensor and as the same values laid out [N, C, H, W]. Shapes: one example whose rows are split into
// two chunks, examples enough for two threads with two chunks each, and small odd sizes; each on one thread
// and on two, which schedules {3, 8, 5, 7} both ways (one task per example, or each pass spread over all
// chunks): the results are the same to the bit.
TEST(GroupNormSiLU, ChannelsLastMatchesLibTorch) {
  torch::manual_seed(8);
  for (const auto& shape :
       std::vector<std::vector<int64_t>>{{1, 64, 32, 32}, {16, 32, 40, 40}, {3, 8, 5, 7}, {16, 96, 7, 7}}) {
    auto norm = make_norm(shape[1] == 8 ? 4 : 32, shape[1]);
    const auto x = (2.0 * torch::randn(shape) + 0.7).contiguous(at::MemoryFormat::ChannelsLast);
    const auto w = torch::randn(shape);
    std::vector<torch::Tensor> by_threads;
    for (const int threads : {1, 2}) {
      const ThreadCount scope(threads);
      torch::manual_seed(21);
      const auto y = group_norm_silu(norm, x, 0.2, true);
      torch::manual_seed(21);
      const auto exact = reference(norm, x, 0.2, true);
      EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast)) << c10::IntArrayRef(shape);
      EXPECT_TRUE(torch::equal(y.eq(0), exact.eq(0))) << c10::IntArrayRef(shape);
      EXPECT_LT(max_abs(y - exact), 2e-5) << c10::IntArrayRef(shape);
      torch::manual_seed(21);  // the same masks as the same tensor laid out [N, C, H, W]
      EXPECT_LT(max_abs(y - group_norm_silu(norm, x.contiguous(), 0.2, true)), 2e-5) << c10::IntArrayRef(shape);

      const auto dropped = [&](const torch::Tensor& v) { return group_norm_silu(norm, v, 0.2, true); };
      const auto dropped_exact = [&](const torch::Tensor& v) { return reference(norm, v, 0.2, true); };
      torch::manual_seed(22);
      const auto fused = gradients(norm, x, w, dropped);
      torch::manual_seed(22);
      const auto exact_grad = gradients(norm, x, w, dropped_exact);
      EXPECT_TRUE(fused.x.is_contiguous(at::MemoryFormat::ChannelsLast)) << c10::IntArrayRef(shape);
      EXPECT_LT(relative_error(fused.x, exact_grad.x), 1e-4) << c10::IntArrayRef(shape);
      EXPECT_LT(relative_error(fused.gamma, exact_grad.gamma), 1e-4) << c10::IntArrayRef(shape);
      EXPECT_LT(relative_error(fused.beta, exact_grad.beta), 1e-4) << c10::IntArrayRef(shape);
      for (const auto& t : {y, fused.x, fused.gamma, fused.beta}) by_threads.push_back(t);
    }
    for (size_t i = 0; i < 4; ++i)
      EXPECT_TRUE(torch::equal(by_threads[i], by_threads[i + 4])) << c10::IntArrayRef(shape);

    // bf16 out, and bf16 in, both channels-last: LibTorch's rounding of the fp32 result, bit for bit; the
    // gradient of a bf16 input is bf16 and channels-last, and agrees with fp32's to bf16's precision.
    const auto fp32 = group_norm_silu(norm, x);
    const PrecisionScope bf16(Precision::bf16);
    const auto low = group_norm_silu(norm, x);
    EXPECT_TRUE(low.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::equal(low, fp32.to(torch::kBFloat16))) << c10::IntArrayRef(shape);
    const auto x_low = x.to(torch::kBFloat16);
    const auto exact_low = reference(norm, x_low.to(torch::kFloat32), 0.0, false);
    const auto tolerance = exact_low.abs() * std::ldexp(1.0, -7) + 1e-5;
    EXPECT_TRUE((group_norm_silu(norm, x_low).to(torch::kFloat32) - exact_low).abs().le(tolerance).all().item<bool>());
    const auto plain = [&](const torch::Tensor& v) { return group_norm_silu(norm, v); };
    const auto exact_plain = [&](const torch::Tensor& v) { return reference(norm, v, 0.0, false); };
    const auto low_grad = gradients(norm, x_low, w, plain);
    const auto fp32_grad = gradients(norm, x_low.to(torch::kFloat32), w, exact_plain);
    EXPECT_EQ(low_grad.x.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(low_grad.x.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_LT(relative_error(low_grad.x.to(torch::kFloat32), fp32_grad.x), 0.02) << c10::IntArrayRef(shape);
    EXPECT_LT(relative_error(low_grad.gamma, fp32_grad.gamma), 0.02) << c10::IntArrayRef(shape);
    EXPECT_LT(relative_error(low_grad.beta, fp32_grad.beta), 0.02) << c10::IntArrayRef(shape);
  }
}

// The same masks as models/dropout.h from the same generator state, in the forward pass and in the gradient;
// none when not training.
TEST(GroupNormSiLU, DropoutUsesTheSameMasks) {
  torch::manual_seed(3);
  auto norm = make_norm(4, 8);
  const auto x = torch::randn({4, 8, 6, 6});
  const auto w = torch::randn({4, 8, 6, 6});
  torch::manual_seed(11);
  const auto fused = group_norm_silu(norm, x, 0.3, true);
  torch::manual_seed(11);
  const auto exact = reference(norm, x, 0.3, true);
  EXPECT_TRUE(torch::equal(fused.eq(0), exact.eq(0)));
  const double dropped = fused.eq(0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(dropped, 0.3, 5.0 * std::sqrt(0.3 * 0.7 / x.numel()));
  EXPECT_LT(max_abs(fused - exact), 2e-5);

  torch::manual_seed(12);
  const auto g_fused = gradients(norm, x, w, [&](const torch::Tensor& v) { return group_norm_silu(norm, v, 0.3, true); });
  torch::manual_seed(12);
  const auto g_exact = gradients(norm, x, w, [&](const torch::Tensor& v) { return reference(norm, v, 0.3, true); });
  EXPECT_LT(relative_error(g_fused.x, g_exact.x), 1e-4);
  EXPECT_LT(relative_error(g_fused.gamma, g_exact.gamma), 1e-4);
  EXPECT_LT(relative_error(g_fused.beta, g_exact.beta), 1e-4);

  EXPECT_LT(max_abs(group_norm_silu(norm, x, 0.3, false) - reference(norm, x, 0.0, false)), 1e-5);
}

// Under a bf16 scope the result is bf16 (for the convolution that follows), its gradient comes back in bf16,
// and a bf16 input is taken as it is; every value is the fp32 one rounded to nearest (even).
TEST(GroupNormSiLU, Bf16InAndOut) {
  torch::manual_seed(4);
  auto norm = make_norm(4, 16);
  const auto x = torch::randn({2, 16, 9, 9});
  const auto exact = reference(norm, x, 0.0, false);
  const auto fused_fp32 = group_norm_silu(norm, x);
  const auto from_low_in_fp32 = group_norm_silu(norm, x.to(torch::kBFloat16));  // bf16 in, fp32 scope: fp32 out
  EXPECT_EQ(from_low_in_fp32.scalar_type(), torch::kFloat32);
  const PrecisionScope bf16(Precision::bf16);
  const auto y = group_norm_silu(norm, x);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(y, fused_fp32.to(torch::kBFloat16)));  // LibTorch's rounding, bit for bit
  const auto tolerance = exact.abs() * std::ldexp(1.0, -8) + 1e-5;  // half a bf16 ulp
  EXPECT_TRUE((y.to(torch::kFloat32) - exact).abs().le(tolerance).all().item<bool>());

  const auto x_low = x.to(torch::kBFloat16);
  const auto from_low = group_norm_silu(norm, x_low);
  const auto exact_low = reference(norm, x_low.to(torch::kFloat32), 0.0, false);
  EXPECT_TRUE((from_low.to(torch::kFloat32) - exact_low).abs().le(exact_low.abs() * std::ldexp(1.0, -7) + 1e-5).all().item<bool>());

  // Gradients: the bf16 input's gradient is bf16; both agree with fp32's to bf16's precision.
  const auto w = torch::randn(x.sizes());
  const auto fp32 = gradients(norm, x, w, [&](const torch::Tensor& v) { return reference(norm, v, 0.0, false); });
  const auto low = gradients(norm, x_low, w, [&](const torch::Tensor& v) { return group_norm_silu(norm, v); });
  EXPECT_EQ(low.x.scalar_type(), torch::kBFloat16);
  EXPECT_LT(relative_error(low.x.to(torch::kFloat32), fp32.x), 0.02);
  EXPECT_LT(relative_error(low.gamma, fp32.gamma), 0.02);
  EXPECT_LT(relative_error(low.beta, fp32.beta), 0.02);
}

// Large |z| (e^z past float's range before the clamp) gives silu(z) → z or → 0 as LibTorch's does; a NaN
// spoils its own group and no other.
TEST(GroupNormSiLU, ExtremeAndNaNInputs) {
  torch::manual_seed(5);
  auto norm = make_norm(2, 4, 60.0);  // |z| up to a few hundred
  for (const auto layout : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
    auto x = torch::randn({2, 4, 8, 8}).contiguous(layout);
    const auto y = group_norm_silu(norm, x);
    const auto exact = reference(norm, x, 0.0, false);
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    EXPECT_TRUE((y - exact).abs().le(exact.abs() * 1e-5 + 1e-5).all().item<bool>());

    x[1][2][3][4] = std::nanf("");  // example 1, group 1 (channels 2, 3)
    const auto z = group_norm_silu(norm, x);
    EXPECT_TRUE(torch::isnan(z[1].slice(0, 2, 4)).all().item<bool>());
    EXPECT_TRUE(torch::isfinite(z[0]).all().item<bool>());
    EXPECT_TRUE(torch::isfinite(z[1].slice(0, 0, 2)).all().item<bool>());
  }
}

// A mean far from its spread (|μ| = 1000 σ): values and gradients against a float64 reference of the same
// input. fp32 spacing at 1000 is 6e-5, so 1e-3 is loose for a kernel that centres on μ and tight for one whose
// terms of size |μ|/σ cancel (the gradient's c₂ x + c₃ form loses about three digits here).
TEST(GroupNormSiLU, LargeMeanAgainstFloat64) {
  torch::manual_seed(7);
  auto norm = make_norm(4, 8);
  // Channels-last also at 48×48, where a chunk sums 1,024 rows per channel.
  const auto channels_last = at::MemoryFormat::ChannelsLast;
  for (const auto& [size, layout] : std::vector<std::pair<int64_t, at::MemoryFormat>>{
           {12, at::MemoryFormat::Contiguous}, {12, channels_last}, {48, channels_last}}) {
    const auto x = (1000.0 + torch::randn({2, 8, size, size})).to(torch::kFloat32).contiguous(layout);
    const auto w = torch::randn(x.sizes());
    const auto fused = gradients(norm, x, w, [&](const torch::Tensor& v) { return group_norm_silu(norm, v); });
    auto x64 = x.to(torch::kFloat64).requires_grad_(true);
    auto gamma = norm->weight.detach().to(torch::kFloat64).requires_grad_(true);
    auto beta = norm->bias.detach().to(torch::kFloat64).requires_grad_(true);
    const auto y64 = torch::silu(torch::group_norm(x64, 4, gamma, beta, 1e-5));
    (y64 * w.to(torch::kFloat64)).sum().backward();
    torch::NoGradGuard no_grad;
    EXPECT_LT(max_abs(group_norm_silu(norm, x).to(torch::kFloat64) - y64), 1e-3);
    EXPECT_LT(relative_error(fused.x.to(torch::kFloat64), x64.grad()), 1e-3);
    EXPECT_LT(relative_error(fused.gamma.to(torch::kFloat64), gamma.grad()), 1e-3);
    EXPECT_LT(relative_error(fused.beta.to(torch::kFloat64), beta.grad()), 1e-4);
  }
}

// Channels that do not divide into the groups are refused, as LibTorch's GroupNorm refuses them.
TEST(GroupNormSiLU, RefusesChannelsThatDoNotDivideIntoGroups) {
  const auto x = torch::randn({2, 6, 3, 3});
  EXPECT_THROW(group_norm_silu(torch::nn::GroupNorm(torch::nn::GroupNormOptions(4, 6)), x), c10::Error);
}

// Where the fused kernel does not apply (here a float64 input) the LibTorch operations give the result.
TEST(GroupNormSiLU, OtherInputsTakeTheLibTorchPath) {
  torch::manual_seed(6);
  auto norm = make_norm(2, 4);
  const auto x = torch::randn({2, 4, 3, 3}, torch::kFloat64);
  const auto y = group_norm_silu(norm, x);
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  EXPECT_LT(max_abs(y - reference(norm, x.to(torch::kFloat32), 0.0, false)), 1e-6);
}
