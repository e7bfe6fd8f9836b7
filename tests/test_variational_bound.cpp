// The variational bound (evaluation/variational_bound.h) with the exact denoiser of Gaussian data, whose
// 8-bit discretization has a known entropy: the bound may not go below it and should come close. And the
// variances fitted to a network (evaluation/fitted_variance.h), which for Gaussian data are known exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/core/random.h"
#include "ddpm/evaluation/fitted_variance.h"
#include "ddpm/evaluation/variational_bound.h"

using namespace ddpm;

namespace {

constexpr double kMean = 0.1, kStddev = 0.3;  // data N(m, s²) in [-1, 1] units; P(|x| > 1) < 0.2 %
constexpr int64_t kDims = 16;

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// The probability of each of the 256 levels x_k = k/127.5 - 1 when N(m, s²) is rounded to the nearest level
// (the end levels take the tails): exactly the bins of the discretized decoder.
std::vector<double> level_probabilities() {
  std::vector<double> p(256);
  for (int k = 0; k < 256; ++k) {
    const double x = k / 127.5 - 1.0;
    const double upper = k == 255 ? 1.0 : normal_cdf((x + 1.0 / 255.0 - kMean) / kStddev);
    const double lower = k == 0 ? 0.0 : normal_cdf((x - 1.0 / 255.0 - kMean) / kStddev);
    p[k] = upper - lower;
  }
  return p;
}

struct GaussianData {
  torch::Tensor x0;           // [n, kDims] on the 256-level grid
  torch::Tensor true_bits;    // [n] -log₂ p(x_0) / dims under the true level probabilities
  double entropy_bits = 0.0;  // per dimension
};

GaussianData gaussian_data(int64_t n, at::Generator& gen) {
  const auto p = level_probabilities();
  GaussianData data;
  for (double pk : p)
    if (pk > 0) data.entropy_bits -= pk * std::log2(pk);
  auto levels = ((torch::randn({n, kDims}, gen, torch::kFloat64) * kStddev + kMean + 1.0) * 127.5).round().clamp(0, 255);
  data.x0 = levels / 127.5 - 1.0;
  auto log2p = torch::tensor(p, torch::kFloat64).log2();
  data.true_bits = -log2p.index({levels.to(torch::kLong)}).sum(1) / static_cast<double>(kDims);
  return data;
}

}  // namespace

TEST(EvalBound, ExactDenoiserOnGaussianDataIsAboveTheEntropyAndCloseToIt) {
  const auto schedule = make_schedule({});  // Ho et al.: linear, T = 1000
  auto gen = make_generator(7);
  const auto data = gaussian_data(500, gen);
  // Sanity of the reference itself: the sample's mean -log₂ p estimates the entropy.
  EXPECT_NEAR(data.true_bits.mean().item<double>(), data.entropy_bits, 0.03);

  for (auto variance : {VarianceKind::Posterior, VarianceKind::Beta}) {
    SCOPED_TRACE(to_string(variance));
    BoundOptions options;
    options.variance = variance;
    options.batch = 8192;
    const auto terms = variational_bound(schedule, gaussian_noise_predictor(schedule, kMean, kStddev), data.x0, gen, options);
    ASSERT_TRUE(terms.exact);
    EXPECT_EQ(terms.evaluations, 500 * schedule.T);
    // The bound minus the true -log₂ p on the same examples: its expectation is KL(data ‖ p_θ) plus the
    // bound's slack, both ≥ 0 (p_θ is a pmf on the grid thanks to the discretized decoder). Pairing
    // removes the data's own spread, so the standard error is the Monte Carlo noise of the terms.
    const auto gap = mean_with_error(terms.total() - data.true_bits);
    EXPECT_GT(gap.mean, -3.0 * gap.standard_error) << "bound below the entropy";
    // How close depends on Σ_θ: with σ_t² = β̃_t the slack at small t is ½ Σ_t (r_t - log(1 + r_t)) with
    // r_t ≈ 1/(t-1) the ratio of the true reverse variance's excess over β̃_t (Nichol & Dhariwal 2021 §3.1),
    // ~0.4 bits/dim, plus the continuous-data denoiser's error on 8-bit data at the first steps; β_t is close
    // to the true reverse variance at small t. Measured (n = 500, seed 7): 0.78 (posterior), 0.14 (beta).
    EXPECT_LT(gap.mean, variance == VarianceKind::Beta ? 0.2 : 1.0);
    EXPECT_LT(mean_with_error(terms.prior).mean, 1e-3);  // ᾱ_T ≈ 4e-5: x_T is almost exactly N(0, I)
  }
}

TEST(EvalBound, StratifiedEstimateAgreesWithTheExactBound) {
  const auto schedule = make_schedule({});
  auto gen = make_generator(8);
  const auto data = gaussian_data(400, gen);
  const auto model = gaussian_noise_predictor(schedule, kMean, kStddev);
  BoundOptions exact_options;
  exact_options.batch = 8192;
  const auto exact = variational_bound(schedule, model, data.x0, gen, exact_options);
  BoundOptions stratified_options = exact_options;
  stratified_options.strata = 20;
  const auto stratified = variational_bound(schedule, model, data.x0, gen, stratified_options);
  EXPECT_FALSE(stratified.exact);
  // 19 quadratic edges ⌊1000 k²/400⌋ (2, 10, 22, ..., 902) and 9 band edges: 29 strata + the decoder.
  EXPECT_EQ(stratified.evaluations, 400 * 30);
  EXPECT_EQ(bound_evaluations(400, schedule.T, stratified_options), 400 * 30);
  // Same examples, independent noise and timesteps: the difference has the standard error of both estimates.
  const auto diff = mean_with_error(stratified.total() - exact.total());
  EXPECT_LT(std::abs(diff.mean), 4.0 * diff.standard_error);
  // 30 of 1000 evaluations: measured 0.054 bits/dim (equal-width strata gave 0.27: one draw of an early term
  // weighted by 50 steps).
  EXPECT_LT(diff.standard_error, 0.1);
  // Per band too: strata never straddle a band edge, so each band's sum is unbiased.
  for (int64_t b = 0; b < 10; ++b) {
    const auto band = mean_with_error(stratified.bands.select(1, b) - exact.bands.select(1, b));
    EXPECT_LT(std::abs(band.mean), 4.0 * band.standard_error + 1e-12) << "band " << b;
  }
}

TEST(EvalBound, TermsAddUpAndBandsCoverEveryStep) {
  const auto schedule = make_schedule({});
  auto gen = make_generator(9);
  const auto data = gaussian_data(8, gen);
  BoundOptions options;
  options.strata = 7;  // edges 20, 81, 183, 326, 510, 734 and the 9 band edges: 16 strata
  const auto terms = variational_bound(schedule, gaussian_noise_predictor(schedule, kMean, kStddev), data.x0, gen, options);
  ASSERT_EQ(terms.band_ranges.size(), 10u);
  EXPECT_EQ(terms.band_ranges.front().t_first, 2);
  EXPECT_EQ(terms.band_ranges.front().t_last, 100);
  for (size_t b = 1; b < terms.band_ranges.size(); ++b)
    EXPECT_EQ(terms.band_ranges[b].t_first, terms.band_ranges[b - 1].t_last + 1);
  EXPECT_EQ(terms.band_ranges.back().t_last, 1000);
  EXPECT_EQ(terms.evaluations, 8 * (16 + 1));
  EXPECT_TRUE(torch::allclose(terms.total(), terms.prior + terms.decoder + terms.bands.sum(1)));
  EXPECT_TRUE((terms.bands >= 0).all().item<bool>());  // sums of KL divergences
}

TEST(EvalBound, RejectsBadInput) {
  auto gen = make_generator(0);
  ScheduleConfig one_step;
  one_step.timesteps = 1;
  const auto tiny = make_schedule(one_step);
  const auto x0 = torch::zeros({2, 3}, torch::kFloat64);
  EXPECT_THROW(variational_bound(tiny, gaussian_noise_predictor(tiny, 0, 1), x0, gen, {}), std::invalid_argument);
  const auto schedule = make_schedule({});
  BoundOptions no_bands;
  no_bands.bands = 0;
  EXPECT_THROW(variational_bound(schedule, gaussian_noise_predictor(schedule, 0, 1), x0, gen, no_bands), std::invalid_argument);
}

// For continuous Gaussian data x_0 ~ N(m, s²) the exact denoiser's fitted variance is the true reverse variance
// Var[x_{t-1} | x_t], in closed form from the forward chain alone: x_{t-1} ~ N(·, v) with
// v = ᾱ_{t-1} s² + 1 - ᾱ_{t-1}, and x_t = √α_t x_{t-1} + √β_t z, so Var[x_{t-1} | x_t] = v β_t / (α_t v + β_t).
// The fit's only random part is e_t, a mean of n·d squared Gaussian errors (relative standard error √(2/(n d))),
// which enters σ_t² as c_t² e_t: each step is checked to six of its own standard errors, tight enough that
// σ_t² = β_t (within 1 % of the truth here) or β̃_t alone fail at many steps.
TEST(FittedVariance, ExactDenoiserOfGaussianDataGivesTheTrueReverseVariance) {
  const auto schedule = make_schedule({});
  auto gen = make_generator(11);
  constexpr int64_t kExamples = 256;
  const auto x0 = torch::randn({kExamples, kDims}, gen, torch::kFloat64) * kStddev + kMean;
  VarianceFitOptions options;
  options.clip_x0 = false;
  options.batch = 8192;
  const auto fit = fit_reverse_variance(schedule, gaussian_noise_predictor(schedule, kMean, kStddev), x0, gen, options);
  EXPECT_EQ(fit.evaluations, kExamples * schedule.T);
  ASSERT_EQ(fit.variance.sizes(), torch::IntArrayRef{schedule.T});
  const auto betas = schedule.betas.to(torch::kFloat64), alpha_bar = schedule.alphas_cumprod.to(torch::kFloat64);
  const auto coef = schedule.posterior_mean_coef1.to(torch::kFloat64);
  const double relative = 6.0 * std::sqrt(2.0 / (kExamples * kDims));
  int64_t beta_would_fail = 0, posterior_would_fail = 0;
  for (int64_t i = 1; i < schedule.T; ++i) {
    const double prev = alpha_bar[i - 1].item<double>(), a = alpha_bar[i].item<double>();
    const double beta = betas[i].item<double>();
    const double v = prev * kStddev * kStddev + 1.0 - prev;
    const double truth = v * beta / ((1.0 - beta) * v + beta);
    const double x0_error = kStddev * kStddev * (1.0 - a) / (a * kStddev * kStddev + 1.0 - a);  // posterior variance
    const double tolerance = relative * std::pow(coef[i].item<double>(), 2) * x0_error + 1e-15;
    ASSERT_NEAR(fit.variance[i].item<double>(), truth, tolerance) << "t = " << i + 1;
    ASSERT_NEAR(fit.x0_error[i].item<double>(), x0_error, relative * x0_error) << "t = " << i + 1;
    beta_would_fail += std::abs(beta - truth) > tolerance;
    posterior_would_fail += std::abs(schedule.posterior_variance[i].item<double>() - truth) > tolerance;
  }
  EXPECT_GT(beta_would_fail, 100);  // the test can tell the fit from either fixed choice
  EXPECT_GT(posterior_would_fail, 100);
}

// A network that is not ideal: the exact denoiser of N(m, s'²) with s' = s/10 applied to N(m, s²) data. Its x̂_0 is
// linear in x_t, so its error has a closed form: with D = ᾱ s'² + 1 - ᾱ and k = ᾱ s'²/D,
// x_0 - x̂_0 = (1 - k)(x_0 - m) - √(ᾱ(1 - ᾱ)) s'²/D ε, so e_t = s²(1 - k)² + ᾱ(1 - ᾱ) s'⁴/D². Its optimal variance
// lies above β_t at dozens of steps, where the ideal network's error 1 - Γ_t (Analytic-DPM) would not put it.
TEST(FittedVariance, ImperfectDenoiserGetsItsOwnErrorsVariance) {
  const auto schedule = make_schedule({});
  auto gen = make_generator(14);
  constexpr int64_t kExamples = 256;
  constexpr double kWrongStddev = kStddev / 10.0;
  const auto x0 = torch::randn({kExamples, kDims}, gen, torch::kFloat64) * kStddev + kMean;
  VarianceFitOptions options;
  options.clip_x0 = false;
  options.batch = 8192;
  const auto fit =
      fit_reverse_variance(schedule, gaussian_noise_predictor(schedule, kMean, kWrongStddev), x0, gen, options);
  const auto alpha_bar = schedule.alphas_cumprod.to(torch::kFloat64);
  const auto coef = schedule.posterior_mean_coef1.to(torch::kFloat64);
  const double relative = 6.0 * std::sqrt(2.0 / (kExamples * kDims));
  const double s2 = kStddev * kStddev, w2 = kWrongStddev * kWrongStddev;
  int64_t above_beta = 0;
  for (int64_t i = 0; i < schedule.T; ++i) {
    const double a = alpha_bar[i].item<double>(), D = a * w2 + 1.0 - a, k = a * w2 / D;
    const double x0_error = s2 * (1.0 - k) * (1.0 - k) + a * (1.0 - a) * w2 * w2 / (D * D);
    ASSERT_NEAR(fit.x0_error[i].item<double>(), x0_error, relative * x0_error) << "t = " << i + 1;
    if (i == 0) continue;  // the decoder's σ_1 is searched, not this formula
    const double floor = schedule.posterior_variance[i].item<double>();
    const double optimum = floor + std::pow(coef[i].item<double>(), 2) * x0_error;
    ASSERT_NEAR(fit.variance[i].item<double>(), optimum, relative * (optimum - floor))
        << "t = " << i + 1;
    above_beta += optimum > 1.05 * schedule.betas[i].item<double>();
  }
  EXPECT_GT(above_beta, 10);  // this network's optimum lies outside [β̃_t, β_t] at some steps
}

// On held-out 8-bit Gaussian data the fitted variances give a valid bound (not below the entropy) that is
// tighter than Ho et al.'s two fixed choices, term by term in expectation: same examples, same draws.
TEST(FittedVariance, TightensTheBoundOnHeldOutData) {
  const auto schedule = make_schedule({});
  const auto model = gaussian_noise_predictor(schedule, kMean, kStddev);
  auto gen = make_generator(12);
  const auto train = gaussian_data(64, gen);
  VarianceFitOptions fit_options;
  fit_options.batch = 8192;
  const auto fit = fit_reverse_variance(schedule, model, train.x0, gen, fit_options);
  const auto test = gaussian_data(300, gen);
  auto bound = [&](const BoundOptions& options) {
    auto draws = make_generator(13);
    return variational_bound(schedule, model, test.x0, draws, options);
  };
  BoundOptions options;
  options.batch = 8192;
  options.clip_x0 = true;
  options.variance_table = fit.variance;
  const auto fitted = bound(options);
  const auto gap = mean_with_error(fitted.total() - test.true_bits);
  EXPECT_GT(gap.mean, -3.0 * gap.standard_error) << "bound below the entropy";
  for (auto variance : {VarianceKind::Posterior, VarianceKind::Beta}) {
    SCOPED_TRACE(to_string(variance));
    options.variance_table = torch::Tensor();
    options.variance = variance;
    const auto fixed = bound(options);
    const auto gain = mean_with_error(fixed.total() - fitted.total());
    EXPECT_GT(gain.mean, 3.0 * gain.standard_error);
    EXPECT_GT(mean_with_error(fixed.decoder - fitted.decoder).mean, 0.0);
  }
}

TEST(FittedVariance, RejectsBadInput) {
  const auto schedule = make_schedule({});
  const auto model = gaussian_noise_predictor(schedule, kMean, kStddev);
  auto gen = make_generator(0);
  EXPECT_THROW(fit_reverse_variance(schedule, model, torch::zeros({0, 3}), gen, {}), std::invalid_argument);
  VarianceFitOptions no_batch;
  no_batch.batch = 0;
  EXPECT_THROW(fit_reverse_variance(schedule, model, torch::zeros({2, 3}), gen, no_batch), std::invalid_argument);
  const auto x0 = torch::zeros({2, 3}, torch::kFloat64);
  BoundOptions options;
  options.variance_table = torch::ones({schedule.T - 1}, torch::kFloat64);
  EXPECT_THROW(variational_bound(schedule, model, x0, gen, options), std::invalid_argument);
  options.variance_table = torch::ones({schedule.T}, torch::kFloat64);
  options.variance_table[5] = 0.0;
  EXPECT_THROW(variational_bound(schedule, model, x0, gen, options), std::invalid_argument);
  options.variance_table[5] = NAN;
  EXPECT_THROW(variational_bound(schedule, model, x0, gen, options), std::invalid_argument);
}
