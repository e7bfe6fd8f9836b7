// The fused GroupNorm → SiLU → dropout (see group_norm_silu.h).
//
// [N, C, H, W] tensors: per example n and group g the slice x[n, g·D : (g+1)·D] (D = C / groups channels of
// HW values each) is contiguous and small enough to stay in cache, so the kernel works slice by slice on one
// thread each:
//   forward   μ, σ² of the slice (two passes over the cached slice), then per channel c with
//             a_c = γ_c / √(σ² + ε), b_c = β_c − μ a_c:  z = a_c x + b_c,  y = z σ(z) · mask
//   backward  g = dy · mask · σ(z) (1 + z (1 − σ(z))), the SiLU's derivative at the recomputed z; then the
//             GroupNorm gradient, with M = D·HW, r = 1/√(σ² + ε), S = Σ_c γ_c Σ g (x − μ) and B = Σ_c γ_c Σ g:
//               dx = r γ_c g − (S r³ / M) (x − μ) − B r / M,
//             dγ_c = Σ_n r Σ g (x − μ),   dβ_c = Σ_n Σ g.
//             (Centred on μ, so nothing cancels where |μ| ≫ σ.)
// Nothing but μ and r is stored for the backward pass: z and the mask are recomputed from x and the
// mask's seed. Channels-last tensors (the CPU convolutions' layout) take the same arithmetic along a
// different loop order (below, "Channels-last"). The row loops are plain float arithmetic that the compiler
// vectorises, cloned for AVX-512, AVX2 and the baseline and chosen at load time, because the library is
// built for any x86-64.
#include "ddpm/models/group_norm_silu.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
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

// The same for `rows` channels-last rows of C channels, whose element (p, c) is element first + c·stride + p
// of the row-major [C, H·W] order the masks are defined in.
DDPM_VECTOR_CLONES void mask_rows(float* y, int64_t rows, int64_t C, int64_t first, int64_t stride,
                                  DropoutMask mask) {
  thread_local std::vector<int64_t> channel_start;  // first + c·stride, so the row loop only adds
  channel_start.resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) channel_start[c] = first + c * stride;
  const int64_t* start = channel_start.data();
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) y[p * C + c] *= mask(start[c] + p);
}

// A dense (contiguous or channels-last) fp32 or bf16 tensor's values, in memory order, as float rows: fp32 in
// place, bf16 widened into a buffer (one slice at a time). bf16 is read as its bits (c10::BFloat16 holds
// exactly those 16 bits).
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

// Writes float rows, in memory order, into a dense tensor that is fp32 (directly) or bf16 (through a buffer,
// rounded).
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
  bool channels_last;  // [N, H, W, C] in memory (else [N, C, H, W])
  int64_t slice_length() const { return D * HW; }
  int64_t slice_start(int64_t slice) const { return slice * D * HW; }  // slice = n · groups + g
};

// A 4-D tensor laid out channels-last and not also contiguous (as one with H = W = 1 or C = 1 is).
bool is_channels_last(const torch::Tensor& x) {
  return x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
}

Shape shape_of(const torch::Tensor& x, int64_t groups) {
  const int64_t N = x.size(0), C = x.size(1);
  return Shape{N, C, x.numel() / (N * C), groups, C / groups, is_channels_last(x)};
}

// Grain of the parallel loops in slices: about 32k values per task.
int64_t slices_per_task(const Shape& s) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, s.slice_length())); }

// The forward kernels' arrays: x in, y out, γ and β, and μ and r = 1/√(σ² + ε) out per (example, group).
struct ForwardArrays {
  FloatView in;
  FloatSink out;
  const float *w, *b;
  float *mu, *r;
};

// The backward kernels': x and dy in, dx out, γ, β, the forward's μ and r, and per (example, channel) the
// sums Σ g (x − μ) and Σ g out.
struct BackwardArrays {
  FloatView in, upstream;
  FloatSink out;
  const float *w, *b, *mu, *r;
  float *gx, *gs;
};

void forward_kernel(const ForwardArrays& arrays, double eps, const DropoutMask* mask, const Shape& s) {
  const FloatView& in = arrays.in;  // (named, not structured bindings: the lambdas capture them)
  const FloatSink& out = arrays.out;
  const float *w = arrays.w, *b = arrays.b;
  float *mu_out = arrays.mu, *r_out = arrays.r;
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
void backward_kernel(const BackwardArrays& arrays, const DropoutMask* mask, const Shape& s) {
  const FloatView &in = arrays.in, &upstream = arrays.upstream;
  const FloatSink& out = arrays.out;
  const float *w = arrays.w, *b = arrays.b, *mu_in = arrays.mu, *r_in = arrays.r;
  float *gx_out = arrays.gx, *g_out = arrays.gs;
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

// Channels-last (NHWC) tensors, the layout of the CPU convolutions (mixed_precision.h). Example n is a
// [P, C] matrix (P = H·W pixels), and a group's D channels are D neighbours in each of its rows: the row
// loops run along the channels with per-channel coefficients, sums are kept per channel and added up per
// group afterwards. Work is split into chunks of rows of one example. With enough examples for the
// threads, one task takes all passes of an example in turn, so its data stays in cache; with few (batch-1
// sampling), every pass is spread over all chunks and the per-chunk sums are combined between passes.
// Either way the chunks and the order of every sum are the same, so the result does not depend on the
// number of threads.
struct ChannelsLastPlan {
  Shape s;
  int64_t rows_per_chunk, chunks_per_example;
  int64_t sums_stride;  // of a chunk's per-channel sums: C rounded up to a 64-byte line, not shared between threads
  bool whole_examples;

  explicit ChannelsLastPlan(const Shape& shape) : s(shape) {
    rows_per_chunk = std::clamp<int64_t>(32768 / s.C, 1, std::min<int64_t>(s.HW, 1024));  // float sums stay short
    chunks_per_example = (s.HW + rows_per_chunk - 1) / rows_per_chunk;
    sums_stride = (s.C + 15) / 16 * 16;
    whole_examples = s.N >= 2 * at::get_num_threads();
  }
  // Zeroed per-channel sums of every chunk.
  std::vector<float> new_sums() const { return std::vector<float>(static_cast<size_t>(chunks() * sums_stride)); }
  float* sums_of(std::vector<float>& sums, int64_t chunk) const { return sums.data() + chunk * sums_stride; }
  int64_t chunks() const { return s.N * chunks_per_example; }
  int64_t example(int64_t chunk) const { return chunk / chunks_per_example; }
  int64_t first_row(int64_t chunk) const { return (chunk % chunks_per_example) * rows_per_chunk; }
  int64_t rows(int64_t chunk) const { return std::min(rows_per_chunk, s.HW - first_row(chunk)); }
  int64_t start(int64_t chunk) const { return (example(chunk) * s.HW + first_row(chunk)) * s.C; }
  // The index of the chunk's first element in [N, C, H, W] order (the dropout masks' order).
  int64_t logical_start(int64_t chunk) const { return example(chunk) * s.C * s.HW + first_row(chunk); }

  // Runs the passes in order: pass k calls chunk_work[k](chunk) for every chunk, then after_pass[k](n) for
  // every example (once all of that example's chunks are done).
  void run(const std::vector<std::function<void(int64_t)>>& chunk_work,
           const std::vector<std::function<void(int64_t)>>& after_pass) const {
    if (whole_examples) {
      at::parallel_for(0, s.N, 1, [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n)
          for (size_t k = 0; k < chunk_work.size(); ++k) {
            for (int64_t c = n * chunks_per_example; c < (n + 1) * chunks_per_example; ++c) chunk_work[k](c);
            if (after_pass[k]) after_pass[k](n);
          }
      });
      return;
    }
    for (size_t k = 0; k < chunk_work.size(); ++k) {
      at::parallel_for(0, chunks(), 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) chunk_work[k](c);
      });
      if (after_pass[k])
        for (int64_t n = 0; n < s.N; ++n) after_pass[k](n);
    }
  }
};

// acc[c] += Σ_p (x[p, c] − shift[c]).
DDPM_VECTOR_CLONES void add_shifted_rows(const float* x, int64_t rows, int64_t C, const float* shift, float* acc) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) acc[c] += x[p * C + c] - shift[c];
}

// acc[c] += Σ_p (x[p, c] − mean[c])².
DDPM_VECTOR_CLONES void add_centred_squares_rows(const float* x, int64_t rows, int64_t C, const float* mean,
                                                 float* acc) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) acc[c] += (x[p * C + c] - mean[c]) * (x[p * C + c] - mean[c]);
}

// y = silu(a[c] x + b[c]).
DDPM_VECTOR_CLONES void silu_rows(const float* x, int64_t rows, int64_t C, const float* a, const float* b,
                                  float* y) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) {
      const float z = a[c] * x[p * C + c] + b[c];
      y[p * C + c] = z * sigmoid(z);
    }
}

// g = dy · silu'(z) at z = a[c] x + b[c] (in place over dy allowed).
DDPM_VECTOR_CLONES void silu_grad_rows(const float* x, const float* dy, int64_t rows, int64_t C, const float* a,
                                       const float* b, float* g) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) {
      const float z = a[c] * x[p * C + c] + b[c];
      const float s = sigmoid(z);
      g[p * C + c] = dy[p * C + c] * s * (1.0f + z * (1.0f - s));
    }
}

// gx[c] += Σ_p g (x − mean[c]),  gs[c] += Σ_p g.
DDPM_VECTOR_CLONES void add_grad_sums_rows(const float* g, const float* x, int64_t rows, int64_t C,
                                           const float* mean, float* gx, float* gs) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) {
      gx[c] += g[p * C + c] * (x[p * C + c] - mean[c]);
      gs[c] += g[p * C + c];
    }
}

// dx = k[c] g + c2[c] (x − mean[c]) + c3[c].
DDPM_VECTOR_CLONES void input_grad_rows(const float* g, const float* x, int64_t rows, int64_t C, const float* mean,
                                        const float* k, const float* c2, const float* c3, float* dx) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t c = 0; c < C; ++c) dx[p * C + c] = k[c] * g[p * C + c] + c2[c] * (x[p * C + c] - mean[c]) + c3[c];
}

// Per-example, per-channel coefficients of the passes ([N, C] each): the group's mean, and z = a x + b.
struct ChannelCoefficients {
  std::vector<float> mean, a, b;
  explicit ChannelCoefficients(const Shape& s)
      : mean(static_cast<size_t>(s.N * s.C)), a(mean.size()), b(mean.size()) {}
  void set_group(const Shape& s, int64_t n, int64_t g, double mu, double r, const float* gamma, const float* beta) {
    for (int64_t c = g * s.D; c < (g + 1) * s.D; ++c) {
      const double ac = r * gamma[c];
      const auto i = static_cast<size_t>(n * s.C + c);
      mean[i] = static_cast<float>(mu);
      a[i] = static_cast<float>(ac);
      b[i] = static_cast<float>(beta[c] - mu * ac);
    }
  }
};

// Σ over example n's chunks of the per-chunk sums in `partial` (plan.new_sums()), for channels [first, last);
// with `shifts` (the same shape), Σ over chunks of partial + rows · shift.
double chunk_total(const ChannelsLastPlan& plan, const std::vector<float>& partial, int64_t n, int64_t first,
                   int64_t last, const std::vector<float>* shifts = nullptr) {
  double total = 0.0;
  for (int64_t chunk = n * plan.chunks_per_example; chunk < (n + 1) * plan.chunks_per_example; ++chunk)
    for (int64_t c = first; c < last; ++c) {
      const auto i = static_cast<size_t>(chunk * plan.sums_stride + c);
      total += partial[i];
      if (shifts) total += static_cast<double>(plan.rows(chunk)) * (*shifts)[i];
    }
  return total;
}

void forward_kernel_channels_last(const ForwardArrays& arrays, double eps, const DropoutMask* mask, const Shape& s) {
  const FloatView& in = arrays.in;
  const FloatSink& out = arrays.out;
  const float *w = arrays.w, *bias = arrays.b;
  float *mu_out = arrays.mu, *r_out = arrays.r;
  const ChannelsLastPlan plan(s);
  // The first pass sums x minus the chunk's first row, so that a mean far from zero (|μ| ≫ σ) loses no
  // digits to long float sums of large values; the second sums squares centred on μ.
  std::vector<float> partial = plan.new_sums(), first_rows = plan.new_sums();
  ChannelCoefficients k(s);
  const double M = static_cast<double>(s.D * s.HW);
  const auto sums = [&](int64_t chunk) {
    thread_local std::vector<float> buffer;
    const float* xs = in.slice(plan.start(chunk), plan.rows(chunk) * s.C, buffer);
    float* shift = plan.sums_of(first_rows, chunk);
    std::copy(xs, xs + s.C, shift);
    add_shifted_rows(xs, plan.rows(chunk), s.C, shift, plan.sums_of(partial, chunk));
  };
  const auto means = [&](int64_t n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const double total = chunk_total(plan, partial, n, g * s.D, (g + 1) * s.D, &first_rows);
      mu_out[n * s.groups + g] = static_cast<float>(total / M);
      std::fill_n(k.mean.begin() + n * s.C + g * s.D, s.D, mu_out[n * s.groups + g]);
    }
  };
  const auto squares = [&](int64_t chunk) {
    thread_local std::vector<float> buffer;
    float* acc = plan.sums_of(partial, chunk);
    std::fill(acc, acc + s.C, 0.0f);
    add_centred_squares_rows(in.slice(plan.start(chunk), plan.rows(chunk) * s.C, buffer), plan.rows(chunk), s.C,
                             k.mean.data() + plan.example(chunk) * s.C, acc);
  };
  const auto scales = [&](int64_t n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const double r = 1.0 / std::sqrt(chunk_total(plan, partial, n, g * s.D, (g + 1) * s.D) / M + eps);
      r_out[n * s.groups + g] = static_cast<float>(r);
      k.set_group(s, n, g, mu_out[n * s.groups + g], r, w, bias);
    }
  };
  const auto output = [&](int64_t chunk) {
    thread_local std::vector<float> in_buffer, out_buffer;
    const int64_t start = plan.start(chunk), length = plan.rows(chunk) * s.C, n = plan.example(chunk);
    float* rows = out.row(start, length, out_buffer);
    silu_rows(in.slice(start, length, in_buffer), plan.rows(chunk), s.C, k.a.data() + n * s.C,
              k.b.data() + n * s.C, rows);
    if (mask) mask_rows(rows, plan.rows(chunk), s.C, plan.logical_start(chunk), s.HW, *mask);
    out.commit(start, length, rows);
  };
  plan.run({sums, squares, output}, {means, scales, nullptr});
}

// As backward_kernel, for channels-last x, dy and dx.
void backward_kernel_channels_last(const BackwardArrays& arrays, const DropoutMask* mask, const Shape& s) {
  const FloatView &in = arrays.in, &upstream = arrays.upstream;
  const FloatSink& out = arrays.out;
  const float *w = arrays.w, *bias = arrays.b, *mu_in = arrays.mu, *r_in = arrays.r;
  float *gx_out = arrays.gx, *g_out = arrays.gs;
  const ChannelsLastPlan plan(s);
  std::vector<float> partial_gx = plan.new_sums(), partial_g = plan.new_sums();
  ChannelCoefficients k(s);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t g = 0; g < s.groups; ++g)
      k.set_group(s, n, g, mu_in[n * s.groups + g], r_in[n * s.groups + g], w, bias);
  // dx = scale g + c2 (x − μ) + c3, per example and channel.
  std::vector<float> scale(k.mean.size()), c2(k.mean.size()), c3(k.mean.size());
  const double M = static_cast<double>(s.D * s.HW);
  // g = dy · mask · silu'(z) over a chunk, into `g`; returns x's rows.
  const auto chunk_grad = [&](int64_t chunk, std::vector<float>& x_buffer, std::vector<float>& dy_buffer,
                              std::vector<float>& g) {
    const int64_t start = plan.start(chunk), length = plan.rows(chunk) * s.C, n = plan.example(chunk);
    const float* xs = in.slice(start, length, x_buffer);
    const float* dys = upstream.slice(start, length, dy_buffer);
    g.resize(static_cast<size_t>(length));
    if (mask) {
      std::copy(dys, dys + length, g.data());
      mask_rows(g.data(), plan.rows(chunk), s.C, plan.logical_start(chunk), s.HW, *mask);
      dys = g.data();
    }
    silu_grad_rows(xs, dys, plan.rows(chunk), s.C, k.a.data() + n * s.C, k.b.data() + n * s.C, g.data());
    return xs;
  };
  const auto sums = [&](int64_t chunk) {
    thread_local std::vector<float> x_buffer, dy_buffer, g;
    const float* xs = chunk_grad(chunk, x_buffer, dy_buffer, g);
    float* gx = plan.sums_of(partial_gx, chunk);
    float* gs = plan.sums_of(partial_g, chunk);
    std::fill(gx, gx + s.C, 0.0f);
    std::fill(gs, gs + s.C, 0.0f);
    add_grad_sums_rows(g.data(), xs, plan.rows(chunk), s.C, k.mean.data() + plan.example(chunk) * s.C, gx, gs);
  };
  const auto coefficients = [&](int64_t n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      double S = 0.0, B = 0.0;
      for (int64_t c = g * s.D; c < (g + 1) * s.D; ++c) {
        const double gx = chunk_total(plan, partial_gx, n, c, c + 1), gs = chunk_total(plan, partial_g, n, c, c + 1);
        gx_out[n * s.C + c] = static_cast<float>(gx);
        g_out[n * s.C + c] = static_cast<float>(gs);
        S += w[c] * gx;
        B += w[c] * gs;
      }
      const double r = r_in[n * s.groups + g];
      for (int64_t c = g * s.D; c < (g + 1) * s.D; ++c) {
        const auto i = static_cast<size_t>(n * s.C + c);
        scale[i] = static_cast<float>(r * w[c]);
        c2[i] = static_cast<float>(-S * r * r * r / M);
        c3[i] = static_cast<float>(-B * r / M);
      }
    }
  };
  const auto input_grad = [&](int64_t chunk) {
    thread_local std::vector<float> x_buffer, dy_buffer, g, out_buffer;
    const float* xs = chunk_grad(chunk, x_buffer, dy_buffer, g);
    const int64_t start = plan.start(chunk), length = plan.rows(chunk) * s.C, at = plan.example(chunk) * s.C;
    float* rows = out.row(start, length, out_buffer);
    input_grad_rows(g.data(), xs, plan.rows(chunk), s.C, k.mean.data() + at, scale.data() + at, c2.data() + at,
                    c3.data() + at, rows);
    out.commit(start, length, rows);
  };
  plan.run({sums, input_grad}, {coefficients, nullptr});
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
    auto y = torch::empty_like(x, x.options().dtype(static_cast<torch::ScalarType>(out_type)));  // x's layout
    auto mean = torch::empty({s.N * groups}, x.options().dtype(torch::kFloat32));
    auto rstd = torch::empty_like(mean);
    const DropoutMask* drop = scale > 0.0 ? &mask : nullptr;
    const ForwardArrays arrays{FloatView(x), FloatSink(y), gamma.data_ptr<float>(), beta.data_ptr<float>(),
                               mean.data_ptr<float>(), rstd.data_ptr<float>()};
    (s.channels_last ? forward_kernel_channels_last : forward_kernel)(arrays, eps, drop, s);
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
    const auto layout = s.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const auto dy = grads[0].contiguous(layout);
    auto dx = torch::empty_like(x);  // x's layout
    auto sum_gx = torch::empty({s.N, s.C}, x.options().dtype(torch::kFloat32));
    auto sum_g = torch::empty_like(sum_gx);
    const DropoutMask* drop = scale > 0.0 ? &mask : nullptr;
    const BackwardArrays arrays{FloatView(x),           FloatView(dy),           FloatSink(dx),
                                gamma.data_ptr<float>(), beta.data_ptr<float>(), mean.data_ptr<float>(),
                                rstd.data_ptr<float>(),  sum_gx.data_ptr<float>(), sum_g.data_ptr<float>()};
    (s.channels_last ? backward_kernel_channels_last : backward_kernel)(arrays, drop, s);
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
  return GroupNormSiLU::apply(is_channels_last(x) ? x : x.contiguous(), norm->weight, norm->bias, o.num_groups(),
                              o.eps(), static_cast<int64_t>(out_type), seed_bits(mask.seed),
                              seed_bits(mask.threshold), static_cast<double>(mask.scale));
}

}  // namespace ddpm
