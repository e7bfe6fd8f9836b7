// The fused GroupNorm → SiLU → dropout (see group_norm_silu.h).
//
// Per example n and group g the slice x[n, g·D : (g+1)·D] (D = C / groups channels of HW values each) is
// contiguous and small enough to stay in cache, so the kernel works slice by slice on one thread each:
//   forward   μ, σ² of the slice (two passes over the cached slice), then per channel c with
//             a_c = γ_c / √(σ² + ε), b_c = β_c − μ a_c:  z = a_c x + b_c,  y = z σ(z) · mask
//   backward  g = dy · mask · σ(z) (1 + z (1 − σ(z))), the SiLU's derivative at the recomputed z; then the
//             GroupNorm gradient, with M = D·HW, r = 1/√(σ² + ε), S = Σ_c γ_c Σ g (x − μ) and B = Σ_c γ_c Σ g:
//               dx = r γ_c g − (S r³ / M) (x − μ) − B r / M,
//             dγ_c = Σ_n r Σ g (x − μ),   dβ_c = Σ_n Σ g.
//             (Centred on μ, so nothing cancels where |μ| ≫ σ.)
// Nothing but μ and r is stored for the backward pass: z and the mask are recomputed from x and the
// mask's seed. The row loops are plain float arithmetic that the compiler vectorises, cloned for AVX-512,
// AVX2 and the baseline and chosen at load time, because the library is built for any x86-64.
#include "ddpm/models/group_norm_silu.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ddpm/models/dropout.h"
#include "ddpm/models/mixed_precision.h"

namespace ddpm {
namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DDPM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DDPM_VECTOR_CLONES
#endif

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// e^x to about one unit in the last place for x in [−87, 88] (outside, the value at the nearer end: enough
// for the sigmoid, which is all it serves): x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' expf
// polynomial, 2^k through the exponent bits. Branch-free, so loops calling it vectorise; NaN stays NaN.
inline float exp_approx(float x) {
  const float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float safe = clamped == clamped ? clamped : 0.0f;  // NaN → 0 before the integer conversion
  constexpr float kRound = 12582912.0f;                    // 1.5·2²³: adding and subtracting it rounds to an integer
  const float k = (safe * 1.44269504088896341f + kRound) - kRound;
  const float r = safe - k * 0.693359375f + k * 2.12194440e-4f;  // ln 2 in two parts, so r keeps its bits
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const float two_k = bits_to_float(static_cast<uint32_t>(static_cast<int32_t>(k) + 127) << 23);
  return x == x ? e * two_k : x;
}

inline float sigmoid(float z) { return 1.0f / (1.0f + exp_approx(-z)); }

inline float bf16_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

// Round to nearest even, as c10::BFloat16 does; NaN to the canonical quiet NaN.
inline uint16_t float_to_bf16(float f) {
  const uint32_t u = float_to_bits(f);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return f == f ? static_cast<uint16_t>(rounded) : uint16_t{0x7FC0};
}

DDPM_VECTOR_CLONES void widen(const uint16_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_float(in[i]);
}

DDPM_VECTOR_CLONES void narrow(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(in[i]);
}

// Σ_{i<n} term(i) in 16 interleaved partial sums: an order of additions the compiler may vectorise, which
// it may not do to one running sum without licence to reorder float arithmetic.
template <typename Term>
inline float lane_sum(int64_t n, Term term) {
  float lanes[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int64_t j = 0; j < 16; ++j) lanes[j] += term(i + j);
  float sum = 0.0f;
  for (; i < n; ++i) sum += term(i);
  for (float lane : lanes) sum += lane;
  return sum;
}

DDPM_VECTOR_CLONES float row_sum(const float* x, int64_t n) {
  return lane_sum(n, [x](int64_t i) { return x[i]; });
}

// Σ g (x − mean).
DDPM_VECTOR_CLONES float row_centred_dot(const float* g, const float* x, int64_t n, float mean) {
  return lane_sum(n, [g, x, mean](int64_t i) { return g[i] * (x[i] - mean); });
}

DDPM_VECTOR_CLONES float row_centred_squares(const float* x, int64_t n, float mean) {
  return lane_sum(n, [x, mean](int64_t i) { return (x[i] - mean) * (x[i] - mean); });
}

DDPM_VECTOR_CLONES void silu_row(const float* x, int64_t n, float a, float b, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = a * x[i] + b;
    y[i] = z * sigmoid(z);
  }
}

// g = dy · silu'(z) at z = a x + b.
DDPM_VECTOR_CLONES void silu_grad_row(const float* x, const float* dy, int64_t n, float a, float b, float* g) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = a * x[i] + b;
    const float s = sigmoid(z);
    g[i] = dy[i] * s * (1.0f + z * (1.0f - s));
  }
}

// dx = k g + c₂ (x − mean) + c₃.
DDPM_VECTOR_CLONES void input_grad_row(const float* g, const float* x, int64_t n, float mean, float k, float c2,
                                       float c3, float* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = k * g[i] + c2 * (x[i] - mean) + c3;
}

// y[i] *= mask(first + i).
DDPM_VECTOR_CLONES void mask_row(float* y, int64_t n, int64_t first, DropoutMask mask) {
  for (int64_t i = 0; i < n; ++i) y[i] *= mask(first + i);
}

// A contiguous fp32 or bf16 tensor's values as float rows: fp32 in place, bf16 widened into a buffer (one
// slice at a time). bf16 is read as its bits (c10::BFloat16 holds exactly those 16 bits).
class FloatView {
 public:
  explicit FloatView(const torch::Tensor& t)
      : fp32_(t.scalar_type() == torch::kFloat32 ? t.data_ptr<float>() : nullptr),
        bf16_(fp32_ ? nullptr : reinterpret_cast<const uint16_t*>(t.data_ptr<at::BFloat16>())) {}
  const float* slice(int64_t first, int64_t n, std::vector<float>& buffer) const {
    if (fp32_) return fp32_ + first;
    buffer.resize(static_cast<size_t>(n));
    widen(bf16_ + first, n, buffer.data());
    return buffer.data();
  }

 private:
  const float* fp32_;
  const uint16_t* bf16_;
};

// Writes float rows into a contiguous tensor that is fp32 (directly) or bf16 (through a buffer, rounded).
class FloatSink {
 public:
  explicit FloatSink(torch::Tensor& t)
      : fp32_(t.scalar_type() == torch::kFloat32 ? t.data_ptr<float>() : nullptr),
        bf16_(fp32_ ? nullptr : reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>())) {}
  float* row(int64_t first, int64_t n, std::vector<float>& buffer) const {
    if (fp32_) return fp32_ + first;
    buffer.resize(static_cast<size_t>(n));
    return buffer.data();
  }
  void commit(int64_t first, int64_t n, const float* row) const {
    if (bf16_) narrow(row, n, bf16_ + first);
  }

 private:
  float* fp32_;
  uint16_t* bf16_;
};

struct Shape {
  int64_t N, C, HW, groups, D;
  int64_t slice_length() const { return D * HW; }
  int64_t slice_start(int64_t slice) const { return slice * D * HW; }  // slice = n · groups + g
};

Shape shape_of(const torch::Tensor& x, int64_t groups) {
  const int64_t N = x.size(0), C = x.size(1);
  return Shape{N, C, x.numel() / (N * C), groups, C / groups};
}

// Grain of the parallel loops in slices: about 32k values per task.
int64_t slices_per_task(const Shape& s) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, s.slice_length())); }

void forward_kernel(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta, double eps,
                    const DropoutMask* mask, const Shape& s, torch::Tensor& y, torch::Tensor& mean,
                    torch::Tensor& rstd) {
  const float* w = gamma.data_ptr<float>();
  const float* b = beta.data_ptr<float>();
  float* mu_out = mean.data_ptr<float>();
  float* r_out = rstd.data_ptr<float>();
  const FloatView in(x);
  const FloatSink out(y);
  at::parallel_for(0, s.N * s.groups, slices_per_task(s), [&](int64_t begin, int64_t end) {
    std::vector<float> in_buffer, out_buffer;
    for (int64_t slice = begin; slice < end; ++slice) {
      const int64_t start = s.slice_start(slice), length = s.slice_length();
      const float* xs = in.slice(start, length, in_buffer);
      double sum = 0.0;
      for (int64_t c = 0; c < s.D; ++c) sum += row_sum(xs + c * s.HW, s.HW);
      const double mu = sum / static_cast<double>(length);
      double squares = 0.0;
      for (int64_t c = 0; c < s.D; ++c) squares += row_centred_squares(xs + c * s.HW, s.HW, static_cast<float>(mu));
      const double r = 1.0 / std::sqrt(squares / static_cast<double>(length) + eps);
      mu_out[slice] = static_cast<float>(mu);
      r_out[slice] = static_cast<float>(r);
      const int64_t first_channel = (slice % s.groups) * s.D;
      for (int64_t c = 0; c < s.D; ++c) {
        const int64_t channel = first_channel + c, row_start = start + c * s.HW;
        const double a = r * w[channel];
        float* row = out.row(row_start, s.HW, out_buffer);
        silu_row(xs + c * s.HW, s.HW, static_cast<float>(a), static_cast<float>(b[channel] - mu * a), row);
        if (mask) mask_row(row, s.HW, row_start, *mask);
        out.commit(row_start, s.HW, row);
      }
    }
  });
}

// Fills dx and, per example and channel, Σ g (x − μ) and Σ g (for dγ and dβ).
void backward_kernel(const torch::Tensor& x, const torch::Tensor& dy, const torch::Tensor& gamma,
                     const torch::Tensor& beta, const torch::Tensor& mean, const torch::Tensor& rstd,
                     const DropoutMask* mask, const Shape& s, torch::Tensor& dx, torch::Tensor& sum_gx,
                     torch::Tensor& sum_g) {
  const float* w = gamma.data_ptr<float>();
  const float* b = beta.data_ptr<float>();
  const float* mu_in = mean.data_ptr<float>();
  const float* r_in = rstd.data_ptr<float>();
  float* gx_out = sum_gx.data_ptr<float>();
  float* g_out = sum_g.data_ptr<float>();
  const FloatView in(x), upstream(dy);
  const FloatSink out(dx);
  at::parallel_for(0, s.N * s.groups, slices_per_task(s), [&](int64_t begin, int64_t end) {
    std::vector<float> x_buffer, dy_buffer, g, out_buffer;
    for (int64_t slice = begin; slice < end; ++slice) {
      const int64_t start = s.slice_start(slice), length = s.slice_length();
      const float* xs = in.slice(start, length, x_buffer);
      const float* dys = upstream.slice(start, length, dy_buffer);
      g.resize(static_cast<size_t>(length));
      const double mu = mu_in[slice], r = r_in[slice];
      const int64_t n = slice / s.groups, first_channel = (slice % s.groups) * s.D;
      double S = 0.0, B = 0.0;
      for (int64_t c = 0; c < s.D; ++c) {
        const int64_t channel = first_channel + c, offset = c * s.HW;
        const double a = r * w[channel];
        float* gc = g.data() + offset;
        const float* dyc = dys + offset;
        if (mask) {
          std::copy(dyc, dyc + s.HW, gc);
          mask_row(gc, s.HW, start + offset, *mask);
          dyc = gc;
        }
        silu_grad_row(xs + offset, dyc, s.HW, static_cast<float>(a), static_cast<float>(b[channel] - mu * a), gc);
        const float gx = row_centred_dot(gc, xs + offset, s.HW, static_cast<float>(mu)), gs = row_sum(gc, s.HW);
        gx_out[n * s.C + channel] = gx;
        g_out[n * s.C + channel] = gs;
        S += w[channel] * static_cast<double>(gx);
        B += w[channel] * static_cast<double>(gs);
      }
      const double M = static_cast<double>(length);
      const double c2 = -S * r * r * r / M;
      const double c3 = -B * r / M;
      for (int64_t c = 0; c < s.D; ++c) {
        const int64_t offset = c * s.HW, row_start = start + offset;
        float* row = out.row(row_start, s.HW, out_buffer);
        input_grad_row(g.data() + offset, xs + offset, s.HW, static_cast<float>(mu),
                       static_cast<float>(r * w[first_channel + c]), static_cast<float>(c2), static_cast<float>(c3),
                       row);
        out.commit(row_start, s.HW, row);
      }
    }
  });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t seed_bits(uint64_t u) {
  int64_t i;
  std::memcpy(&i, &u, sizeof i);
  return i;
}

uint64_t seed_of(int64_t i) {
  uint64_t u;
  std::memcpy(&u, &i, sizeof u);
  return u;
}

struct GroupNormSiLU : torch::autograd::Function<GroupNormSiLU> {
  // The dropout mask as (seed, threshold, scale) in the types autograd can save; scale 0: no mask.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gamma,
                               const torch::Tensor& beta, int64_t groups, double eps, int64_t out_type,
                               int64_t seed, int64_t threshold, double scale) {
    const Shape s = shape_of(x, groups);
    const DropoutMask mask{seed_of(seed), seed_of(threshold), static_cast<float>(scale)};
    auto y = torch::empty(x.sizes(), x.options().dtype(static_cast<torch::ScalarType>(out_type)));
    auto mean = torch::empty({s.N * groups}, x.options().dtype(torch::kFloat32));
    auto rstd = torch::empty_like(mean);
    forward_kernel(x, gamma, beta, eps, scale > 0.0 ? &mask : nullptr, s, y, mean, rstd);
    ctx->save_for_backward({x, gamma, beta, mean, rstd});
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["seed"] = seed;
    ctx->saved_data["threshold"] = threshold;
    ctx->saved_data["scale"] = scale;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The kernel's arithmetic is not recorded: no second derivatives.
    TORCH_CHECK(!torch::GradMode::is_enabled(), "group_norm_silu: double backward is not supported");
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &gamma = saved[1], &beta = saved[2], &mean = saved[3], &rstd = saved[4];
    const Shape s = shape_of(x, ctx->saved_data["groups"].toInt());
    const double scale = ctx->saved_data["scale"].toDouble();
    const DropoutMask mask{seed_of(ctx->saved_data["seed"].toInt()), seed_of(ctx->saved_data["threshold"].toInt()),
                           static_cast<float>(scale)};
    const auto dy = grads[0].contiguous();
    auto dx = torch::empty_like(x);
    auto sum_gx = torch::empty({s.N, s.C}, x.options().dtype(torch::kFloat32));
    auto sum_g = torch::empty_like(sum_gx);
    backward_kernel(x, dy, gamma, beta, mean, rstd, scale > 0.0 ? &mask : nullptr, s, dx, sum_gx, sum_g);
    // dγ_c = Σ_n r Σ g (x − μ), dβ_c = Σ_n Σ g, over [N, C] partial sums (small: done by LibTorch).
    const auto r = rstd.view({s.N, s.groups}).repeat_interleave(s.D, 1);  // [N, G] → [N, C]
    const auto d_gamma = (r * sum_gx).sum(0);
    const auto d_beta = sum_g.sum(0);
    return {dx, d_gamma, d_beta, torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool fused_kernel_applies(const torch::nn::GroupNorm& norm, const torch::Tensor& x) {
  const auto& o = norm->options;
  return x.device().is_cpu() && x.dim() >= 2 && x.numel() > 0 &&
         (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16) && o.affine() &&
         norm->weight.scalar_type() == torch::kFloat32 && norm->weight.device().is_cpu();
}

}  // namespace

torch::Tensor group_norm_silu(const torch::nn::GroupNorm& norm, const torch::Tensor& x, double dropout_p,
                              bool training) {
  const double p = training ? dropout_p : 0.0;
  if (!fused_kernel_applies(norm, x))
    return in_compute_precision(ddpm::dropout(torch::silu(norm.ptr()->forward(x.to(torch::kFloat32))), p, true));
  const auto& o = norm->options;
  TORCH_CHECK(x.size(1) == o.num_channels(), "group_norm_silu: expected ", o.num_channels(), " channels, got ",
              x.size(1));
  TORCH_CHECK(o.num_channels() % o.num_groups() == 0, "group_norm_silu: ", o.num_channels(),
              " channels do not divide into ", o.num_groups(), " groups");
  const auto out_type = compute_precision() == Precision::bf16 ? torch::kBFloat16 : torch::kFloat32;
  DropoutMask mask{0, 0, 0.0f};  // scale 0: none
  if (p > 0.0) mask = draw_dropout_mask(p);
  return GroupNormSiLU::apply(x.contiguous(), norm->weight, norm->bias, o.num_groups(), o.eps(),
                              static_cast<int64_t>(out_type), seed_bits(mask.seed), seed_bits(mask.threshold),
                              static_cast<double>(mask.scale));
}

}  // namespace ddpm
