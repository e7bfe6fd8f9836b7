// Part 2, 5 and 7 measurements with a given noise predictor (the oracle ε* or a learned one).
#include "ddpm/experiments/error_sources.h"

#include "ddpm/core/forward_process.h"
#include "ddpm/evaluation/mixture_metrics.h"
#include "ddpm/evaluation/point_distances.h"
#include "ddpm/samplers/ancestral.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/langevin.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {

SampleQuality evaluate_samples(const GaussianMixture& mixture, const torch::Tensor& samples,
                               const torch::Tensor& reference, int64_t projections, at::Generator& gen) {
  return {mode_proportions(mixture, samples), sliced_wasserstein2(samples, reference, projections, gen),
          between_modes_fraction(mixture, samples), mean_log_likelihood(mixture, samples)};
}

torch::Tensor ancestral_points(const Schedule& schedule, const NoisePredictor& model, int64_t n, int64_t dim,
                               at::Generator& gen) {
  return ancestral_sample(schedule, model, torch::randn({n, dim}, gen), gen);
}

double kl_to_standard_normal_quadrature(const GaussianMixture& q) {
  const int64_t d = q.dim();
  TORCH_CHECK(d <= 2, "quadrature KL is for d <= 2, got d = ", d);
  // The integrand q log(q/N) - q + N is ≥ 0 and second order in q - N, so the sum does not cancel; the
  // trapezoid rule is spectrally accurate for these Gaussians on a box reaching 10 standard deviations.
  const double sigma = std::sqrt(std::max(1.0, torch::linalg_eigvalsh(q.covariances, "L").max().item<double>()));
  const double half = q.means.abs().max().item<double>() + 10.0 * sigma;
  const int64_t m = 801;
  const double h = 2.0 * half / (m - 1);
  auto axis = torch::linspace(-half, half, m, torch::kFloat64);
  auto x = d == 1 ? axis.unsqueeze(1) : [&] {
    auto mesh = torch::meshgrid({axis, axis}, "ij");
    return torch::stack({mesh[0].reshape(-1), mesh[1].reshape(-1)}, 1);
  }();
  double total = 0.0;
  for (int64_t i = 0; i < x.size(0); i += 1 << 15) {  // in chunks: [chunk, K, d] temporaries stay small
    auto xi = x.slice(0, i, i + (1 << 15));
    auto log_q = log_density(q, xi);
    auto log_n = -0.5 * (xi.pow(2).sum(1) + d * std::log(2.0 * M_PI));
    total += (log_q.exp() * (log_q - log_n) - log_q.exp() + log_n.exp()).sum().item<double>();
  }
  return total * std::pow(h, d);
}

InitializationRow initialization_error(const GaussianMixture& mixture, const ScheduleConfig& config,
                                       const torch::Tensor& reference, int64_t projections, at::Generator& gen) {
  const auto schedule = make_schedule(config);
  const int64_t n = reference.size(0), d = mixture.dim();
  const double ab = schedule.alphas_cumprod[schedule.T - 1].item<double>();
  const auto q_T = diffuse(mixture, ab);
  // Monte Carlo: KL = E_{q_T}[log q_T(x) - log N(x; 0, I)].
  auto x_T = sample_points(q_T, n, gen, torch::kFloat64);
  auto log_normal = -0.5 * (x_T.pow(2).sum(1) + d * std::log(2.0 * M_PI));
  auto ratio = log_density(q_T, x_T) - log_normal;
  InitializationRow row;
  row.schedule = config.kind;
  row.T = schedule.T;
  row.alpha_bar_T = ab;
  if (d <= 2) {
    row.kl = kl_to_standard_normal_quadrature(q_T);
    row.kl_method = "quadrature";
  } else {
    row.kl = ratio.mean().item<double>();
    row.kl_se = ratio.std().item<double>() / std::sqrt(static_cast<double>(n));
    row.kl_method = "monte carlo";
  }
  const auto model = mixture_noise_predictor(mixture, schedule);
  auto from_normal = ancestral_sample(schedule, model, torch::randn({n, d}, gen), gen);
  auto from_exact = ancestral_sample(schedule, model, x_T.to(torch::kFloat32), gen);
  row.distance_from_normal = sliced_wasserstein2(from_normal, reference, projections, gen);
  row.distance_from_exact = sliced_wasserstein2(from_exact, reference, projections, gen);
  return row;
}

std::vector<TrainingErrorRow> training_error_by_band(const GaussianMixture& mixture, const Schedule& schedule,
                                                     const NoisePredictor& model, int64_t bands,
                                                     int64_t samples_per_band, at::Generator& gen) {
  TORCH_CHECK(bands >= 1 && bands <= schedule.T, "bands must be in [1, T], got ", bands);
  TORCH_CHECK(samples_per_band >= 2, "samples_per_band must be >= 2, got ", samples_per_band);
  torch::NoGradGuard no_grad;
  const auto oracle = mixture_noise_predictor(mixture, schedule);
  std::vector<TrainingErrorRow> rows;
  for (int64_t b = 0; b < bands; ++b) {
    const int64_t lo = b * schedule.T / bands, hi = (b + 1) * schedule.T / bands;
    auto x0 = sample_points(mixture, samples_per_band, gen);
    auto t = torch::randint(lo, hi, {samples_per_band}, gen, torch::kLong);
    auto xt = q_sample(schedule, x0, t, torch::randn(x0.sizes(), gen));
    auto err = (model(xt, t).to(torch::kFloat64) - oracle(xt, t).to(torch::kFloat64)).pow(2).sum(1);
    rows.push_back({lo, hi, err.mean().item<double>(),
                    err.std().item<double>() / std::sqrt(static_cast<double>(samples_per_band))});
  }
  return rows;
}

DiscretizationRow discretization_error(const GaussianMixture& mixture, const Schedule& schedule,
                                       const NoisePredictor& model, int64_t steps, const std::string& spacing,
                                       const torch::Tensor& reference, int64_t projections, at::Generator& gen) {
  const int64_t n = reference.size(0), d = mixture.dim();
  const auto tau = spaced_timesteps(schedule.T, steps, spacing);
  const auto respaced = respace(schedule, tau);
  auto x_T = torch::randn({n, d}, gen);
  auto ancestral = ancestral_sample(respaced.schedule, model, x_T, gen, {{}, respaced.model_timesteps});
  auto ddim = ddim_sample(schedule, tau, model, x_T, gen);
  return {steps, sliced_wasserstein2(ancestral, reference, projections, gen),
          sliced_wasserstein2(ddim, reference, projections, gen)};
}

LangevinRow langevin_run(const GaussianMixture& mixture, const Schedule& schedule, const NoisePredictor& model,
                         double epsilon, int64_t levels, int64_t steps_per_level, const torch::Tensor& reference,
                         int64_t projections, at::Generator& gen) {
  LangevinOptions options;
  options.epsilon = epsilon;
  options.steps_per_level = steps_per_level;
  options.levels = spaced_timesteps(schedule.T, levels, "linspace");
  options.final_denoise = false;  // Algorithm 1 as published, at exactly the ancestral chain's evaluations
  auto x = langevin_sample(schedule, model, torch::randn({reference.size(0), mixture.dim()}, gen), gen, options);
  // A diverging chain gives inf/nan; report it as such rather than failing the whole table.
  if (!torch::isfinite(x).all().item<bool>()) {
    const double nan = std::nan("");
    return {epsilon, levels, steps_per_level, {std::vector<double>(mixture.components(), nan), nan, nan, nan}};
  }
  return {epsilon, levels, steps_per_level, evaluate_samples(mixture, x, reference, projections, gen)};
}

}  // namespace ddpm
