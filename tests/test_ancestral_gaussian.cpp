// Algorithm 2 end to end with no training: for Gaussian data x_0 ~ N(m, s²) the optimal noise predictor is
// known in closed form, and so is the law of the sampler's output. The sampler driven by the exact
// predictor must reproduce that law — and that law must be N(m, s²) up to the chain's small
// discretization/initialization error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/core/random.h"
#include "ddpm/samplers/ancestral.h"

using namespace ddpm;

namespace {

struct Moments {
  double mean, var;
};

// With ε*(x, t) = c_t (x - √ᾱ_t m), the mean of Ho et al. eq. 11 is affine in x_t: μ = a_t x_t + b_t. Starting
// from x_T ~ N(0, 1), the output is Gaussian with moments given by M ← a M + b, V ← a² V + σ_t².
Moments exact_output_law(const Schedule& s, VarianceKind kind, double m, double sd) {
  double M = 0.0, V = 1.0;
  for (int64_t i = s.T - 1; i >= 0; --i) {
    const double abar = s.alphas_cumprod[i].item<double>(), alpha = s.alphas[i].item<double>();
    const double beta = s.betas[i].item<double>();
    const double c = std::sqrt(1 - abar) / (abar * sd * sd + 1 - abar);
    const double a = (1 - beta * c / std::sqrt(1 - abar)) / std::sqrt(alpha);
    const double b = beta * c * std::sqrt(abar) * m / std::sqrt(1 - abar) / std::sqrt(alpha);
    const double var = i == 0 ? 0.0 : (kind == VarianceKind::Beta ? beta : s.posterior_variance[i].item<double>());
    M = a * M + b;
    V = a * a * V + var;
  }
  return {M, V};
}

void check_sampler(VarianceKind kind, double m, double sd, uint64_t seed) {
  const auto s = make_schedule({});
  auto gen = make_generator(seed);
  const int64_t n = 20000;
  AncestralOptions options;
  options.step.variance = kind;
  auto x = ancestral_sample(s, gaussian_noise_predictor(s, m, sd), torch::randn({n, 1}, gen, torch::kFloat64), gen, options);
  const double mean = x.mean().item<double>(), var = x.var().item<double>();

  const auto law = exact_output_law(s, kind, m, sd);
  // 1. The sampler implements its law: 4 standard errors (SE(mean) = √(V/n), SE(var) = V√(2/(n-1))).
  EXPECT_NEAR(mean, law.mean, 4 * std::sqrt(law.var / n));
  EXPECT_NEAR(var, law.var, 4 * law.var * std::sqrt(2.0 / (n - 1)));
  // 2. That law is the data distribution up to the chain's own error, which the recursion measures:
  //    the mean is off by < 1e-3·|m| (x_T keeps √ᾱ_T ≈ 0.006 of the data) and the variance by a few
  //    percent (a fixed σ_t² cannot equal the true reverse variance at every step; for s = 0.3 and β̃ the
  //    recursion gives -2.5%). We bound it at 5%; DiscretizationErrorShrinksWithT shows it is the chain's.
  EXPECT_NEAR(law.mean, m, 1e-3 * std::abs(m) + 1e-9);
  EXPECT_NEAR(law.var, sd * sd, 0.05 * sd * sd);
  // 3. Hence the samples match N(m, s²) within MC error plus that bound.
  EXPECT_NEAR(mean, m, 4 * std::sqrt(law.var / n) + 1e-3 * std::abs(m));
  EXPECT_NEAR(var, sd * sd, 4 * law.var * std::sqrt(2.0 / (n - 1)) + 0.05 * sd * sd);
}

}  // namespace

TEST(AncestralSampler, ExactOnGaussianDataPosteriorVariance) { check_sampler(VarianceKind::Posterior, 0.5, 0.3, 11); }
TEST(AncestralSampler, ExactOnGaussianDataBetaVariance) { check_sampler(VarianceKind::Beta, 0.5, 0.3, 12); }
TEST(AncestralSampler, ExactOnWideGaussianData) { check_sampler(VarianceKind::Posterior, -1.0, 2.0, 13); }

// The variance bias above is discretization error: with β_t scaled by 1000/T (the same continuous-time
// process, finer steps) it shrinks roughly like 1/T.
TEST(AncestralSampler, DiscretizationErrorShrinksWithT) {
  auto relative_error = [](int64_t T) {
    const double scale = 1000.0 / T;
    const auto s = Schedule::from_betas(linear_betas(T, 1e-4 * scale, 0.02 * scale), "linear");
    return std::abs(exact_output_law(s, VarianceKind::Posterior, 0.5, 0.3).var / 0.09 - 1);
  };
  const double e1000 = relative_error(1000), e4000 = relative_error(4000);
  EXPECT_GT(e1000, 1e-3);  // a real, visible error at T = 1000
  EXPECT_LT(e4000, e1000 / 2);
}

// A wrong mean formula would not pass: driving the sampler with ε ≡ 0 must NOT give the data law.
TEST(AncestralSampler, WrongPredictorIsDetected) {
  const auto s = make_schedule({});
  auto gen = make_generator(14);
  auto zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  auto x = ancestral_sample(s, zero, torch::randn({4000, 1}, gen, torch::kFloat64), gen);
  EXPECT_GT(std::abs(x.var().item<double>() - 0.09), 0.5);
}

TEST(AncestralSampler, CallbackSeesEveryStepAndSameSeedRepeats) {
  const auto s = make_schedule({});
  auto run = [&](uint64_t seed, int64_t* calls) {
    auto gen = make_generator(seed);
    return ancestral_sample(s, gaussian_noise_predictor(s, 0.0, 1.0), torch::randn({8, 2}, gen), gen, {},
                            [calls](int64_t step, int64_t total, const torch::Tensor&, const torch::Tensor&) {
                              ++*calls;
                              EXPECT_EQ(total, 1000);
                              EXPECT_EQ(step, *calls);
                            });
  };
  int64_t calls_a = 0, calls_b = 0;
  auto a = run(5, &calls_a), b = run(5, &calls_b);
  EXPECT_EQ(calls_a, 1000);
  EXPECT_TRUE(torch::equal(a, b));
  int64_t calls_c = 0;
  EXPECT_FALSE(torch::equal(a, run(6, &calls_c)));
}
