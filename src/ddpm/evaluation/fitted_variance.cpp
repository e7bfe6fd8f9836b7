// The bound-optimal reverse variances: the network's x_0 error per step, then σ_t² = β̃_t + c_t² e_t, and the
// decoder's σ_1 by a search on the discretized likelihood.
#include "ddpm/evaluation/fitted_variance.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ddpm/core/forward_process.h"
#include "ddpm/core/losses.h"
#include "ddpm/core/reverse_process.h"

namespace ddpm {
namespace {

// Mean over examples and dimensions of -log p(x_0 | x̂_0, σ) under the discretized decoder.
double decoder_nll(const torch::Tensor& x0, const torch::Tensor& x0_pred, double log_sigma) {
  auto log_scale = torch::full_like(x0_pred, log_sigma);
  return -discretized_gaussian_log_likelihood(x0, x0_pred, log_scale).mean().item<double>();
}

// The log σ in [log 1e-4, 0] (a hundredth of a bin to the data's whole range) that minimises decoder_nll:
// the best of a log-spaced grid, then golden-section search between its neighbours.
double fit_decoder_log_sigma(const torch::Tensor& x0, const torch::Tensor& x0_pred) {
  const double lo = std::log(1e-4), hi = 0.0;
  constexpr int kGrid = 65;
  const double step = (hi - lo) / (kGrid - 1);
  int best = 0;
  double best_nll = INFINITY;
  for (int i = 0; i < kGrid; ++i) {
    const double nll = decoder_nll(x0, x0_pred, lo + i * step);
    if (nll < best_nll) best_nll = nll, best = i;
  }
  double a = lo + std::max(best - 1, 0) * step, b = lo + std::min(best + 1, kGrid - 1) * step;
  const double inv_phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
  double fc = decoder_nll(x0, x0_pred, c), fd = decoder_nll(x0, x0_pred, d);
  for (int i = 0; i < 40; ++i) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - inv_phi * (b - a), fc = decoder_nll(x0, x0_pred, c);
    } else {
      a = c, c = d, fc = fd;
      d = a + inv_phi * (b - a), fd = decoder_nll(x0, x0_pred, d);
    }
  }
  return 0.5 * (a + b);
}

}  // namespace

FittedVariance fit_reverse_variance(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0,
                                    at::Generator& gen, const VarianceFitOptions& options,
                                    const BoundProgress& progress) {
  const int64_t T = schedule.T;
  if (T < 2)
    throw std::invalid_argument(fmt::format("fitting reverse variances needs T >= 2 steps, the schedule has {}", T));
  if (x0.dim() < 2 || x0.size(0) < 1) throw std::invalid_argument("fitting reverse variances needs examples [n, ...]");
  if (options.batch < 1) throw std::invalid_argument("the variance fit's batch must be >= 1");

  const int64_t n = x0.size(0), pairs = n * T;
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  auto error_sum = torch::zeros({T}, torch::kFloat64);
  auto decoder_pred = torch::empty(x0.sizes(), torch::kFloat64);  // x̂_0 at t = 1, for the decoder's σ_1
  ReverseStepOptions reverse;
  reverse.clip_x0 = options.clip_x0;
  // Pair p is (example p / T, step index p % T): each batch holds consecutive steps of a few examples.
  for (int64_t begin = 0; begin < pairs; begin += options.batch) {
    auto pair = torch::arange(begin, std::min(pairs, begin + options.batch), i64);
    auto example = pair.div(T, "floor"), t = pair.remainder(T);
    auto x0_batch = x0.index_select(0, example);
    auto xt = q_sample(schedule, x0_batch, t, torch::randn(x0_batch.sizes(), gen, x0_batch.options()));
    auto eps = model(xt, t).to(torch::kFloat64);
    auto pred = p_mean_variance(schedule, xt.to(torch::kFloat64), t, eps, reverse).pred_x0;
    auto x0d = x0_batch.to(torch::kFloat64);
    error_sum.index_add_(0, t, (x0d - pred).square().flatten(1).mean(1));
    auto first = t.eq(0).nonzero().flatten();
    decoder_pred.index_copy_(0, example.index_select(0, first), pred.index_select(0, first));
    if (progress) progress(begin + pair.size(0), pairs);
  }

  FittedVariance fit;
  fit.x0_error = error_sum / static_cast<double>(n);
  auto coef = schedule.posterior_mean_coef1.to(torch::kFloat64);
  fit.variance = schedule.posterior_variance.to(torch::kFloat64) + coef.square() * fit.x0_error;
  const double log_sigma = fit_decoder_log_sigma(x0.to(torch::kFloat64), decoder_pred);
  fit.variance[0] = std::exp(2.0 * log_sigma);
  fit.evaluations = pairs;
  return fit;
}

}  // namespace ddpm
