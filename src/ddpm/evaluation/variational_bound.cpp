// The variational bound (Ho et al. eq. 5) per example: exact or stratified over t, batched over (example, t) pairs.
#include "ddpm/evaluation/variational_bound.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "ddpm/core/forward_process.h"
#include "ddpm/core/losses.h"

namespace ddpm {
namespace {

// 0-based step indices [first, end); index i is paper step t = i + 1 (docs/NOTATION.md).
struct Stratum {
  int64_t first = 0, end = 0;
  int64_t band = 0;
};

// Edges of the report bands over the KL indices 1..T-1 (index 0 is the decoder): band b starts at
// ⌊bT/B⌋, so with T = 1000, B = 10 the bands are t = 2..100, 101..200, ..., 901..1000.
std::vector<int64_t> band_edges(int64_t T, int64_t bands) {
  std::vector<int64_t> edges = {1, T};
  for (int64_t b = 1; b < bands; ++b) edges.push_back(std::max<int64_t>(1, b * T / bands));
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

// K parts of 0..T-1 growing quadratically (edges ⌊T k²/K²⌋), cut at the band edges, without index 0. The
// KL terms are largest and change fastest at small t, where equal strata would weight one draw of a large
// early term by the whole stratum and dominate the variance; here the first strata are single steps.
// K = T with `exact` gives one stratum per index.
std::vector<Stratum> make_strata(int64_t T, int64_t K, bool exact, const std::vector<int64_t>& bands) {
  std::vector<int64_t> edges = bands;
  for (int64_t k = 1; k < K; ++k)
    edges.push_back(std::max<int64_t>(1, exact ? k : static_cast<int64_t>(static_cast<double>(T) * k * k / (static_cast<double>(K) * K))));
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<Stratum> strata;
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    Stratum s{edges[i], edges[i + 1], 0};
    s.band = std::upper_bound(bands.begin(), bands.end(), s.first) - bands.begin() - 1;
    strata.push_back(s);
  }
  return strata;
}

bool is_exact(int64_t T, const BoundOptions& options) { return options.strata <= 0 || options.strata >= T - 1; }

// Per pair, in nats summed over dimensions: L_0 where t is index 0, else L_{t-1}. Float64, since the KL
// terms of large t are differences of nearly equal means.
torch::Tensor bound_term(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& xt, const torch::Tensor& t,
                         const torch::Tensor& eps, const BoundOptions& options) {
  auto x0d = x0.to(torch::kFloat64), xtd = xt.to(torch::kFloat64);
  ReverseStepOptions reverse;
  reverse.variance = options.variance;
  reverse.variance_table = options.variance_table;
  reverse.clip_x0 = options.clip_x0;
  const auto p = p_mean_variance(s, xtd, t, eps.to(torch::kFloat64), reverse).dist;
  const auto q = q_posterior(s, x0d, xtd, t);
  auto kl = normal_kl(q.mean, q.log_variance, p.mean, p.log_variance).flatten(1).sum(1);
  auto decoder_nll = -discretized_gaussian_log_likelihood(x0d, p.mean, 0.5 * p.log_variance).flatten(1).sum(1);
  return torch::where(t.eq(0), decoder_nll, kl);
}

}  // namespace

torch::Tensor BoundTerms::total() const { return prior + decoder + bands.sum(1); }

int64_t bound_evaluations(int64_t n, int64_t T, const BoundOptions& options) {
  const auto bands = band_edges(T, options.bands);
  const auto strata = make_strata(T, is_exact(T, options) ? T : options.strata, is_exact(T, options), bands);
  return n * static_cast<int64_t>(strata.size() + 1);
}

BoundTerms variational_bound(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& x0,
                             at::Generator& gen, const BoundOptions& options, const BoundProgress& progress) {
  const int64_t T = schedule.T;
  if (T < 2) throw std::invalid_argument(fmt::format("the variational bound needs T >= 2 steps, the schedule has {}", T));
  if (x0.dim() < 2 || x0.size(0) < 1) throw std::invalid_argument("the bound needs a batch of examples [n, ...]");
  if (options.bands < 1 || options.batch < 1) throw std::invalid_argument("bound bands and batch must be >= 1");
  const auto& table = options.variance_table;
  if (table.defined() && (table.sizes() != torch::IntArrayRef{T} || !(table > 0).all().item<bool>() ||
                          !torch::isfinite(table).all().item<bool>()))
    throw std::invalid_argument(fmt::format("the bound's variance table must hold T = {} positive finite values", T));

  const auto edges = band_edges(T, options.bands);
  const bool exact = is_exact(T, options);
  const auto strata = make_strata(T, exact ? T : options.strata, exact, edges);
  const int64_t n = x0.size(0), S = static_cast<int64_t>(strata.size()), J = S + 1;
  const int64_t B = static_cast<int64_t>(edges.size()) - 1;
  const double to_bits = 1.0 / (static_cast<double>(x0[0].numel()) * std::log(2.0));

  // Per job j (column of the [n, J] timestep table): job 0 is the decoder at index 0 (its own column B of
  // the accumulator); job j ≥ 1 draws an index in stratum j - 1, weighted by the stratum's size.
  std::vector<int64_t> firsts, sizes, columns = {B};
  std::vector<double> weights = {1.0};
  for (const auto& s : strata) {
    firsts.push_back(s.first);
    sizes.push_back(s.end - s.first);
    columns.push_back(s.band);
    weights.push_back(static_cast<double>(s.end - s.first));
  }
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  auto first = torch::tensor(firsts, i64), size = torch::tensor(sizes, i64);
  auto draw = (torch::rand({n, S}, gen, torch::kFloat64) * size).floor().to(torch::kLong);
  auto timesteps = torch::cat({torch::zeros({n, 1}, i64), first + torch::minimum(draw, size - 1)}, 1).reshape(-1);
  auto job_weight = torch::tensor(weights, torch::kFloat64) * to_bits;
  auto job_column = torch::tensor(columns, i64);

  auto accumulator = torch::zeros({n, B + 1}, torch::kFloat64);
  const int64_t pairs = n * J;
  for (int64_t begin = 0; begin < pairs; begin += options.batch) {
    auto pair = torch::arange(begin, std::min(pairs, begin + options.batch), i64);
    auto example = pair.div(J, "floor"), job = pair.remainder(J);
    auto t = timesteps.index_select(0, pair);
    auto x0_batch = x0.index_select(0, example);
    auto xt = q_sample(schedule, x0_batch, t, torch::randn(x0_batch.sizes(), gen, x0_batch.options()));
    auto term = bound_term(schedule, x0_batch, xt, t, model(xt, t), options) * job_weight.index_select(0, job);
    accumulator.view(-1).index_add_(0, example * (B + 1) + job_column.index_select(0, job), term);
    if (progress) progress(pair.size(0) + begin, pairs);
  }

  BoundTerms terms;
  terms.prior = prior_kl(schedule, x0.to(torch::kFloat64)).flatten(1).sum(1) * to_bits;
  terms.decoder = accumulator.select(1, B).clone();
  terms.bands = accumulator.slice(1, 0, B).clone();
  for (int64_t b = 0; b < B; ++b) terms.band_ranges.push_back({edges[b] + 1, edges[b + 1]});  // index → paper t
  terms.evaluations = pairs;
  terms.exact = exact;
  return terms;
}

MeanWithError mean_with_error(const torch::Tensor& per_example) {
  auto x = per_example.to(torch::kFloat64);
  MeanWithError m;
  m.mean = x.mean().item<double>();
  m.standard_error = x.numel() < 2 ? std::numeric_limits<double>::quiet_NaN()
                                   : x.std().item<double>() / std::sqrt(static_cast<double>(x.numel()));
  return m;
}

}  // namespace ddpm
