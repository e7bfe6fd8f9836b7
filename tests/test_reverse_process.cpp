// Posterior, ε-parameterisation and the reverse step against closed forms (Ho et al. 2020, eq. 7, 15, 11).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/random.h"
#include "ddpm/core/reverse_process.h"

using namespace ddpm;

namespace {
torch::Tensor indices(std::initializer_list<int64_t> v) { return torch::tensor(std::vector<int64_t>(v), torch::kLong); }
}  // namespace

// eq. 7 with x_0 from eq. 15 equals eq. 11, for any ε (relative 1e-6 required; float64 gives ~1e-13).
TEST(ReverseProcess, PosteriorMeanWithPredictedX0EqualsEq61) {
  const auto s = make_schedule({});
  auto gen = make_generator(3);
  auto xt = torch::randn({4, 3, 5, 5}, gen, torch::kFloat64);
  auto eps = torch::randn({4, 3, 5, 5}, gen, torch::kFloat64);
  auto t = indices({1, 10, 500, 999});
  auto via29 = posterior_mean(s, predict_x0_from_eps(s, xt, t, eps), xt, t);
  auto via61 = mean_from_eps(s, xt, t, eps);
  EXPECT_TRUE(torch::allclose(via29, via61, 1e-6, 1e-10));
  EXPECT_LT((via29 - via61).abs().max().item<double>(), 1e-12);
}

// x_0 → (x_t, ε) → x_0: eq. 4 followed by eq. 15 is the identity; and ε from x_0 inverts eq. 15.
TEST(ReverseProcess, EpsilonParameterisationRoundTrips) {
  const auto s = make_schedule({});
  auto gen = make_generator(4);
  auto x0 = torch::randn({3, 7}, gen, torch::kFloat64);
  auto eps = torch::randn({3, 7}, gen, torch::kFloat64);
  auto t = indices({0, 400, 999});
  auto xt = extract(s.sqrt_alphas_cumprod, t, x0) * x0 + extract(s.sqrt_one_minus_alphas_cumprod, t, x0) * eps;
  EXPECT_LT((predict_x0_from_eps(s, xt, t, eps) - x0).abs().max().item<double>(), 1e-9);
  EXPECT_LT((predict_eps_from_x0(s, xt, t, x0) - eps).abs().max().item<double>(), 1e-9);
}

// The posterior is the exact conditional: q(x_{t-1}|x_t,x_0) ∝ q(x_t|x_{t-1}) q(x_{t-1}|x_0). Completing
// the square in 1-D gives precision α_t/β_t + 1/(1-ᾱ_{t-1}) and mean
// (√α_t x_t/β_t + √ᾱ_{t-1} x_0/(1-ᾱ_{t-1})) / precision: compare with eq. 7.
TEST(ReverseProcess, PosteriorIsBayesRule) {
  const auto s = make_schedule({});
  for (int64_t i : {1, 37, 500, 999}) {
    const double a = s.alphas[i].item<double>(), b = s.betas[i].item<double>();
    const double abar_prev = s.alphas_cumprod_prev[i].item<double>();
    const double x0 = 0.7, xt = -0.3;
    const double precision = a / b + 1 / (1 - abar_prev);
    const double mean = (std::sqrt(a) * xt / b + std::sqrt(abar_prev) * x0 / (1 - abar_prev)) / precision;
    auto q = q_posterior(s, torch::full({1, 1}, x0, torch::kFloat64), torch::full({1, 1}, xt, torch::kFloat64),
                         indices({i}));
    EXPECT_NEAR(q.mean.item<double>(), mean, 1e-12) << i;
    EXPECT_NEAR(q.variance.item<double>(), 1 / precision, 1e-14) << i;
  }
}

TEST(ReverseProcess, VarianceChoicesAndLastStep) {
  const auto s = make_schedule({});
  auto like = torch::zeros({2, 1}, torch::kFloat64);
  auto t = indices({0, 700});
  auto post = reverse_variance(s, VarianceKind::Posterior, t, like);
  auto beta = reverse_variance(s, VarianceKind::Beta, t, like);
  EXPECT_EQ(post.variance[0].item<double>(), 0.0);  // β̃_1 = 0
  EXPECT_NEAR(beta.variance[1].item<double>(), s.betas[700].item<double>(), 1e-15);
  EXPECT_NEAR(beta.log_variance[1].item<double>(), std::log(s.betas[700].item<double>()), 1e-12);
  // Ho et al.'s fixedlarge: step 1's log-variance is log β̃_2, not log β_1.
  EXPECT_NEAR(beta.log_variance[0].item<double>(), std::log(s.posterior_variance[1].item<double>()), 1e-12);
  EXPECT_EQ(parse_variance_kind("beta"), VarianceKind::Beta);
  EXPECT_THROW(parse_variance_kind("large"), std::invalid_argument);

  // z = 0 at the last step: the sample equals the mean exactly; at other steps it does not.
  auto xt = torch::ones({2, 1}, torch::kFloat64);
  auto step = p_mean_variance(s, xt, t, torch::zeros_like(xt), {});
  auto x = p_sample_from(step, t, torch::ones_like(xt));
  EXPECT_EQ(x[0].item<double>(), step.dist.mean[0].item<double>());
  EXPECT_NEAR(x[1].item<double>() - step.dist.mean[1].item<double>(), std::sqrt(s.posterior_variance[700].item<double>()), 1e-12);
}

TEST(ReverseProcess, ClippedX0UsesEq29) {
  const auto s = make_schedule({});
  auto xt = torch::full({1, 2}, 3.0, torch::kFloat64);
  auto eps = torch::full({1, 2}, -2.0, torch::kFloat64);  // implies |x_0| > 1
  auto t = indices({100});
  ReverseStepOptions clip;
  clip.clip_x0 = true;
  auto step = p_mean_variance(s, xt, t, eps, clip);
  EXPECT_TRUE(torch::all(step.pred_x0 <= 1.0).item<bool>());
  auto expected = posterior_mean(s, torch::ones({1, 2}, torch::kFloat64), xt, t);
  EXPECT_TRUE(torch::allclose(step.dist.mean, expected, 0, 1e-14));
  auto unclipped = p_mean_variance(s, xt, t, eps, {});
  EXPECT_GT((unclipped.dist.mean - step.dist.mean).abs().max().item<double>(), 1e-3);
}
