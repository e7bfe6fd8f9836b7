// The forward processes against their closed forms (Ho et al. 2020, eq. 2 and 4; the lecture notes' random walk).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/forward_process.h"
#include "ddpm/core/random.h"

using namespace ddpm;

namespace {

// Chains single steps of eq. 2 from a fixed x_0 for n independent chains of dimension 1 and returns
// the states after `stop` steps.
torch::Tensor chain_steps(const Schedule& s, double x0, int64_t n, int64_t stop, at::Generator& gen) {
  auto x = torch::full({n, 1}, x0, torch::kFloat64);
  for (int64_t i = 0; i < stop; ++i) {
    auto t = torch::full({n}, i, torch::kLong);
    x = q_step(s, x, t, torch::randn({n, 1}, gen, torch::kFloat64));
  }
  return x;
}

}  // namespace

// Chaining T steps of q(x_t|x_{t-1}) gives q(x_t|x_0) = N(√ᾱ_t x_0, 1 - ᾱ_t): composing Gaussians.
TEST(ForwardProcess, ChainedStepsMatchOneShotMarginal) {
  const auto s = make_schedule({});
  auto gen = make_generator(1);
  const int64_t n = 20000;
  const double x0 = 1.5;
  for (int64_t stop : {int64_t{300}, int64_t{1000}}) {
    auto x = chain_steps(s, x0, n, stop, gen);
    const double abar = s.alphas_cumprod[stop - 1].item<double>();
    const double mean = x.mean().item<double>(), var = x.var().item<double>();
    const double true_var = 1 - abar;
    // 4 standard errors: SE(mean) = σ/√n; SE(var) ≈ σ²·√(2/(n-1)) for Gaussian data.
    EXPECT_NEAR(mean, std::sqrt(abar) * x0, 4 * std::sqrt(true_var / n)) << "t = " << stop;
    EXPECT_NEAR(var, true_var, 4 * true_var * std::sqrt(2.0 / (n - 1))) << "t = " << stop;
  }
}

TEST(ForwardProcess, OneShotSampleIsTheReparameterisedMarginal) {
  const auto s = make_schedule({});
  auto x0 = torch::tensor({{0.5, -1.0}, {2.0, 0.0}}, torch::kFloat64);
  auto t = torch::tensor({9, 799}, torch::kLong);
  auto noise = torch::tensor({{1.0, 2.0}, {-1.0, 0.5}}, torch::kFloat64);
  auto xt = q_sample(s, x0, t, noise);
  for (int b = 0; b < 2; ++b) {
    const double abar = s.alphas_cumprod[t[b].item<int64_t>()].item<double>();
    for (int d = 0; d < 2; ++d) {
      const double expected = std::sqrt(abar) * x0[b][d].item<double>() + std::sqrt(1 - abar) * noise[b][d].item<double>();
      EXPECT_NEAR(xt[b][d].item<double>(), expected, 1e-14);
    }
  }
  auto q = q_marginal(s, x0, t);
  EXPECT_NEAR(q.variance[1].item<double>(), 1 - s.alphas_cumprod[799].item<double>(), 1e-15);
  EXPECT_THROW(q_sample(s, x0, t, torch::zeros({2, 3}, torch::kFloat64)), c10::Error);
}

// Seed 000: x_T = x_0 + Σ ε_t has mean μ and covariance Σ_{x_0} + Tσ²I — it does not forget x_0's mean,
// and its variance grows without bound, unlike DDPM's chain which ends near N(0, I).
TEST(ForwardProcess, RandomWalkKeepsMeanAndGrowsCovariance) {
  auto gen = make_generator(2);
  const int64_t n = 40000, T = 100;
  const double sigma = 0.1;
  // Correlated 2-D data: x_0 = μ + L u with Σ_{x_0} = L Lᵀ.
  auto mu = torch::tensor({3.0, -1.0}, torch::kFloat64);
  auto L = torch::tensor({{1.0, 0.0}, {0.6, 0.5}}, torch::kFloat64);
  auto data_cov = L.mm(L.t());
  auto x = mu + torch::randn({n, 2}, gen, torch::kFloat64).mm(L.t());
  for (int64_t i = 0; i < T; ++i) x = random_walk_step(x, sigma, torch::randn({n, 2}, gen, torch::kFloat64));

  auto expected_cov = random_walk_covariance(data_cov, T, sigma);
  EXPECT_NEAR(expected_cov[0][0].item<double>(), 1.0 + T * sigma * sigma, 1e-12);
  auto mean = x.mean(0);
  auto centered = x - mean;
  auto cov = centered.t().mm(centered) / (n - 1);
  for (int i = 0; i < 2; ++i) {
    const double var_i = expected_cov[i][i].item<double>();
    EXPECT_NEAR(mean[i].item<double>(), mu[i].item<double>(), 4 * std::sqrt(var_i / n));  // 4 SE
    for (int j = 0; j < 2; ++j) {
      // SE of a sample covariance: √((Σ_ii Σ_jj + Σ_ij²)/n) for Gaussian data; 4 SE.
      const double sij = expected_cov[i][j].item<double>();
      const double se = std::sqrt((var_i * expected_cov[j][j].item<double>() + sij * sij) / n);
      EXPECT_NEAR(cov[i][j].item<double>(), sij, 4 * se) << i << "," << j;
    }
  }
  // The contrast with DDPM: the walk's end point is far from N(0, I) (mean 3, variance 2).
  EXPECT_GT(mean[0].item<double>(), 2.9);
}
