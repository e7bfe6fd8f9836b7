// Respacing, DDIM and annealed Langevin against exact answers: the Gaussian and Gaussian-mixture
// denoisers are the ideal ε*, so any error left is the sampler's own.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/random.h"
#include "ddpm/evaluation/mixture_metrics.h"
#include "ddpm/samplers/ancestral.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/langevin.h"
#include "ddpm/samplers/respacing.h"

using namespace ddpm;

TEST(Respacing, Spacings) {
  EXPECT_EQ(spaced_timesteps(1000, 10, "leading"), (std::vector<int64_t>{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}));
  EXPECT_EQ(spaced_timesteps(1000, 10, "trailing"), (std::vector<int64_t>{99, 199, 299, 399, 499, 599, 699, 799, 899, 999}));
  EXPECT_EQ(spaced_timesteps(1000, 4, "linspace"), (std::vector<int64_t>{0, 333, 666, 999}));
  std::vector<int64_t> all(50);
  for (int i = 0; i < 50; ++i) all[i] = i;
  for (const auto& spacing : timestep_spacings()) EXPECT_EQ(spaced_timesteps(50, 50, spacing), all) << spacing;
  EXPECT_THROW(spaced_timesteps(10, 11, "leading"), std::invalid_argument);
  EXPECT_THROW(spaced_timesteps(10, 0, "leading"), std::invalid_argument);
  EXPECT_THROW(spaced_timesteps(10, 5, "even"), std::invalid_argument);
  EXPECT_THROW(respace(make_schedule({}), {5, 5}), std::invalid_argument);
  EXPECT_THROW(respace(make_schedule({}), {999, 1000}), std::invalid_argument);
}

TEST(Respacing, FullSequenceEqualsThePlainSamplerExactly) {
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(builtin_mixture("two-modes"), schedule);
  const auto respaced = respace(schedule, spaced_timesteps(1000, 1000, "trailing"));
  EXPECT_TRUE(torch::equal(respaced.schedule.betas, schedule.betas));
  auto gen_a = make_generator(7), gen_b = make_generator(7);
  auto x_T = torch::randn({300, 2}, gen_a);
  gen_b = make_generator(7);
  torch::randn({300, 2}, gen_b);
  auto plain = ancestral_sample(schedule, model, x_T, gen_a);
  auto again = ancestral_sample(respaced.schedule, model, x_T, gen_b, {{}, respaced.model_timesteps});
  EXPECT_TRUE(torch::equal(plain, again));
}

TEST(Respacing, PreviousStepIsThePreviousRespacedStep) {
  ScheduleConfig config;
  const auto schedule = make_schedule(config);
  // linspace ends at t = 1; "trailing" would end at t = 100 and return E[x_0 | x_100], a narrower law.
  const auto tau = spaced_timesteps(1000, 50, "linspace");
  const auto r = respace(schedule, tau);
  for (std::size_t k = 1; k < tau.size(); ++k) {
    EXPECT_NEAR(r.schedule.alphas_cumprod_prev[k].item<double>(), schedule.alphas_cumprod[tau[k - 1]].item<double>(),
                1e-14);
    EXPECT_NEAR(r.schedule.alphas_cumprod[k].item<double>(), schedule.alphas_cumprod[tau[k]].item<double>(), 1e-14);
  }
  // Sampling N(m, s²) data with 50 respaced steps. With the exact Gaussian denoiser every step is affine,
  // x ← a x + b + σ z, so the chain's output law N(mean, var) follows from a scalar recursion written here
  // from the original ᾱ at τ alone (ᾱ_prev = ᾱ_{τ_{k-1}}, β' = 1 - ᾱ_t/ᾱ_prev, σ² = β̃'). The sampler must
  // match it; the diffusers bug (β'_k = β_{τ_k}, i.e. the previous step taken as τ_k - 1) does not.
  const double m = 0.5, s = 0.2;
  const auto model = gaussian_noise_predictor(schedule, m, s);
  double law_mean = 0.0, law_var = 1.0;
  for (int64_t k = static_cast<int64_t>(tau.size()) - 1; k >= 0; --k) {
    const double ab = schedule.alphas_cumprod[tau[k]].item<double>();
    const double ab_prev = k > 0 ? schedule.alphas_cumprod[tau[k - 1]].item<double>() : 1.0;
    const double beta = 1 - ab / ab_prev, v = ab * s * s + 1 - ab;
    // μ = (x - β/√(1-ᾱ) ε*)/√(1-β) with ε* = √(1-ᾱ)(x - √ᾱ m)/v  (Ho et al. eq. 11 with the exact ε).
    const double a = (1 - beta / v) / std::sqrt(1 - beta), b = beta / v * std::sqrt(ab) * m / std::sqrt(1 - beta);
    const double sigma2 = k > 0 ? (1 - ab_prev) / (1 - ab) * beta : 0.0;
    law_mean = a * law_mean + b;
    law_var = a * a * law_var + sigma2;
  }
  const double law_std = std::sqrt(law_var);
  auto buggy = Schedule::from_betas(schedule.betas.index_select(0, torch::tensor(tau)));
  auto gen = make_generator(8);
  const int64_t n = 4000;
  auto x_T = torch::randn({n, 1}, gen, torch::kFloat64);
  auto good = ancestral_sample(r.schedule, model, x_T, gen, {{}, r.model_timesteps});
  auto bad = ancestral_sample(buggy, model, x_T, gen, {{}, r.model_timesteps});
  // 4 standard errors of a sample mean (std/√n) and of a sample std (std/√(2n)).
  const double std_tol = 4 * law_std / std::sqrt(2.0 * n);
  EXPECT_NEAR(good.mean().item<double>(), law_mean, 4 * law_std / std::sqrt(n));
  EXPECT_NEAR(good.std().item<double>(), law_std, std_tol);
  EXPECT_GT(std::abs(bad.std().item<double>() - law_std), 10 * std_tol);
  // 50 steps with the small variance β̃ end somewhat narrower than the data (the fixed-variance
  // discretisation error, which shrinks as K grows); 25 % bounds it here.
  EXPECT_NEAR(law_mean, m, 0.01);
  EXPECT_NEAR(law_std, s, 0.25 * s);
}

TEST(Ancestral, ExactMixtureDenoiserReproducesTheWeights) {
  const auto schedule = make_schedule({});
  const auto mixture = builtin_mixture("two-modes");
  auto gen = make_generator(9);
  const int64_t n = 4000;
  auto x = ancestral_sample(schedule, mixture_noise_predictor(mixture, schedule), torch::randn({n, 2}, gen), gen);
  const auto p = mode_proportions(mixture, x);
  for (int k = 0; k < 2; ++k) {
    const double w = mixture.weights[k];
    EXPECT_NEAR(p[k], w, 3 * std::sqrt(w * (1 - w) / n)) << "mode " << k;  // 3 binomial standard errors
  }
}

TEST(DDIM, EtaZeroIsDeterministic) {
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(builtin_mixture("ring8"), schedule);
  auto g0 = make_generator(10);
  auto x_T = torch::randn({100, 2}, g0);
  const auto tau = spaced_timesteps(1000, 20, "trailing");
  auto g1 = make_generator(1), g2 = make_generator(2);
  EXPECT_TRUE(torch::equal(ddim_sample(schedule, tau, model, x_T, g1), ddim_sample(schedule, tau, model, x_T, g2)));
  DDIMOptions noisy;
  noisy.eta = 1.0;
  EXPECT_FALSE(torch::equal(ddim_sample(schedule, tau, model, x_T, g1, noisy),
                            ddim_sample(schedule, tau, model, x_T, g2, noisy)));
}

// For x_0 ~ N(m, s² I), q(x_t) = N(√ᾱ m, (ᾱ s² + 1 - ᾱ) I) and the probability-flow ODE keeps the
// standardised u = (x - √ᾱ m)/√(ᾱ s² + 1 - ᾱ) constant, so x_T maps to m + s·u_T. DDIM (η = 0) multiplies u
// by a cosine < 1 each step (the angle between (√ᾱ s, √(1-ᾱ)) at consecutive steps), so it converges as K grows.
TEST(DDIM, EtaZeroLandsOnTheProbabilityFlowEndPoint) {
  const auto schedule = make_schedule({});
  const double m = 1.0, s = 0.5;
  const auto model = gaussian_noise_predictor(schedule, m, s);
  auto gen = make_generator(11);
  auto x_T = torch::randn({500, 2}, gen, torch::kFloat64);
  const double ab = schedule.alphas_cumprod[999].item<double>();
  auto exact = m + s * (x_T - std::sqrt(ab) * m) / std::sqrt(ab * s * s + 1 - ab);
  double previous = INFINITY;
  for (int64_t K : {10, 100, 1000}) {
    auto x0 = ddim_sample(schedule, spaced_timesteps(1000, K, "linspace"), model, x_T, gen);
    const double err = (x0 - exact).abs().max().item<double>();
    EXPECT_LT(err, previous) << K << " steps";
    previous = err;
  }
  EXPECT_LT(previous, 5e-3);  // 1000 steps: Π cos ≈ 1 - 1e-3, times |s·u| ≤ 2
}

TEST(Langevin, ExactScoreReachesTheMixture) {
  const auto schedule = make_schedule({});
  const auto mixture = builtin_mixture("two-modes");
  LangevinOptions options;
  options.epsilon = 2e-4;
  options.steps_per_level = 10;
  options.levels = spaced_timesteps(1000, 100, "linspace");
  auto gen = make_generator(12);
  const int64_t n = 2000;
  auto x = langevin_sample(schedule, mixture_noise_predictor(mixture, schedule), torch::randn({n, 2}, gen), gen, options);
  const auto p = mode_proportions(mixture, x);
  // 3 binomial SEs (0.031) plus 0.02 for the Langevin chain's own bias at a finite step.
  EXPECT_NEAR(p[1], 0.7, 0.05);
  EXPECT_LT(between_modes_fraction(mixture, x), 0.03);
  // Within a mode the spread must be the component's (0.5), not the prior's.
  auto right = x.index({assign_components(mixture, x).eq(1)});
  EXPECT_NEAR(right.select(1, 1).std().item<double>(), 0.5, 0.06);
}
