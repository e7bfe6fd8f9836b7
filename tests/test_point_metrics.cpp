// Point-set distances and mixture metrics against closed forms.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/random.h"
#include "ddpm/evaluation/mixture_metrics.h"
#include "ddpm/evaluation/point_distances.h"

using namespace ddpm;

TEST(SlicedW2, ZeroForItselfAndShiftClosedForm) {
  auto gen = make_generator(20);
  auto x = torch::randn({2000, 2}, gen, torch::kFloat64);
  EXPECT_EQ(sliced_wasserstein2(x, x, 64, gen), 0.0);
  // Shifting every point by δ shifts each projection by θᵀδ exactly, so SW2² = mean_θ (θᵀδ)², whose
  // expectation over the circle is ‖δ‖²/2; with 1000 directions its SE is 0.35‖δ‖²/√1000 ≈ 0.011‖δ‖².
  auto delta = torch::tensor({{1.0, 0.5}}, torch::kFloat64);
  const double sw = sliced_wasserstein2(x, x + delta, 1000, gen);
  EXPECT_NEAR(sw * sw, 1.25 / 2, 4 * 0.011 * 1.25);
  // Independent samples of N(0, I) and N(δ, I): the same value plus the sampling noise floor.
  auto y = torch::randn({2000, 2}, gen, torch::kFloat64) + delta;
  EXPECT_NEAR(sliced_wasserstein2(x, y, 500, gen), std::sqrt(0.625), 0.05);
  EXPECT_THROW(sliced_wasserstein2(x, y.slice(0, 0, 10), 10, gen), c10::Error);
}

TEST(MMD, UnbiasedIsNearZeroForOneDistributionAndMatchesTheShift) {
  auto gen = make_generator(21);
  const double h = 1.0;
  auto x = torch::randn({1500, 2}, gen, torch::kFloat64);
  auto y = torch::randn({1500, 2}, gen, torch::kFloat64);
  // Under the null the U-statistic has mean 0 and std ≈ √(2/n²)·O(1) ≈ 1e-3.
  EXPECT_NEAR(mmd2_unbiased(x, y, h), 0.0, 4e-3);
  // N(0, I) vs N(δ, I): MMD² = 2 (h²/(h²+2))^{d/2} (1 - exp(-‖δ‖²/(2(h²+2)))).
  const double d2 = 1.0, c = h * h / (h * h + 2);
  const double expected = 2 * c * (1 - std::exp(-d2 / (2 * (h * h + 2))));
  auto shifted = y + torch::tensor({{1.0, 0.0}}, torch::kFloat64);
  EXPECT_NEAR(mmd2_unbiased(x, shifted, h), expected, 0.01);
  EXPECT_THROW(mmd2_unbiased(x, y, 0.0), c10::Error);
}

TEST(MixtureMetrics, ProportionsAndLowDensityRegion) {
  const auto m = builtin_mixture("two-modes");
  auto pts = torch::tensor({{-2.0, 0.0}, {2.1, 0.0}, {1.9, 0.3}, {2.0, -0.2}}, torch::kFloat64);
  EXPECT_EQ(mode_proportions(m, pts), (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(between_modes_fraction(m, pts), 0.0);
  EXPECT_EQ(between_modes_fraction(m, torch::tensor({{0.0, 0.0}, {0.0, 1.0}}, torch::kFloat64)), 1.0);
  // log τ = log 0.3 - log(2π·0.25) - 4.5 (the lighter mode's 3σ contour).
  EXPECT_NEAR(low_density_log_threshold(m), std::log(0.3) - std::log(2 * M_PI * 0.25) - 4.5, 1e-12);
  // True samples: at most P(χ²_2 > 9) = e^{-4.5} = 1.1 %, plus 4 SEs of a 20000-point estimate.
  auto gen = make_generator(22);
  auto truth = sample_points(m, 20000, gen, torch::kFloat64);
  EXPECT_LT(between_modes_fraction(m, truth), std::exp(-4.5) + 4 * std::sqrt(0.011 / 20000));
}

TEST(MixtureMetrics, MeanLogLikelihoodOfAGaussianIsMinusItsEntropy) {
  GaussianMixture g{{1.0}, torch::zeros({1, 2}, torch::kFloat64), 0.25 * torch::eye(2, torch::kFloat64).unsqueeze(0)};
  auto gen = make_generator(23);
  auto x = sample_points(g, 20000, gen, torch::kFloat64);
  // -H = -(d/2)(1 + log 2πσ²); log q has std √(d/2) = 1, so the SE is 1/√20000 ≈ 0.007.
  EXPECT_NEAR(mean_log_likelihood(g, x), -(1 + std::log(2 * M_PI * 0.25)), 0.03);
}
