// The loss and the bound's terms against closed forms (Ho et al. 2020, eq. 8 and the decoder of eq. 13).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/losses.h"
#include "ddpm/core/prediction.h"
#include "ddpm/core/random.h"

using namespace ddpm;

TEST(Losses, LSimpleIsTheMeanSquaredNoiseError) {
  auto eps = torch::tensor({{1.0, 2.0}, {0.0, -1.0}}, torch::kFloat64);
  auto pred = torch::tensor({{0.0, 2.0}, {2.0, -1.0}}, torch::kFloat64);
  EXPECT_DOUBLE_EQ(l_simple(eps, pred).item<double>(), (1.0 + 0 + 4 + 0) / 4);
  auto per = l_simple_per_example(eps, pred);
  EXPECT_DOUBLE_EQ(per[0].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(per[1].item<double>(), 2.0);
}

TEST(Losses, KlOfEqualVariancesIsEq40) {
  auto m1 = torch::tensor({0.3, -1.0}, torch::kFloat64), m2 = torch::tensor({1.1, 2.0}, torch::kFloat64);
  const double var = 0.04;
  auto lv = torch::full({2}, std::log(var), torch::kFloat64);
  auto kl = normal_kl(m1, lv, m2, lv);
  for (int i = 0; i < 2; ++i) {
    const double d = m1[i].item<double>() - m2[i].item<double>();
    EXPECT_NEAR(kl[i].item<double>(), d * d / (2 * var), 1e-12);
  }
  // General case against the textbook formula: KL = log(σ2/σ1) + (σ1² + Δ²)/(2σ2²) - ½.
  auto one = torch::zeros({1}, torch::kFloat64);
  auto kl2 = normal_kl(one, torch::full({1}, std::log(4.0), torch::kFloat64), one + 1, one);
  EXPECT_NEAR(kl2.item<double>(), std::log(1.0 / 2.0) + (4.0 + 1.0) / 2.0 - 0.5, 1e-12);
  EXPECT_NEAR(normal_kl(one, one, one, one).item<double>(), 0.0, 1e-15);
}

TEST(Losses, DiscretizedDecoderBinsSumToOne) {
  // The 256 bin probabilities of one pixel sum to 1 (the edge bins extend to ±∞).
  auto grid = torch::arange(256, torch::kFloat64) / 127.5 - 1.0;
  for (double mean : {-1.0, -0.3, 0.0, 0.77, 1.0}) {
    for (double log_scale : {std::log(0.001), std::log(0.05), std::log(0.5)}) {
      auto m = torch::full({256}, mean, torch::kFloat64);
      auto ls = torch::full({256}, log_scale, torch::kFloat64);
      auto total = discretized_gaussian_log_likelihood(grid, m, ls).exp().sum().item<double>();
      // Only the 1e-12 floor on empty bins can add mass: at most 256e-12.
      EXPECT_NEAR(total, 1.0, 1e-9) << mean << " " << log_scale;
    }
  }
  // A sharp decoder centred on a pixel puts almost all mass in that pixel's bin.
  auto x = torch::full({1}, 10 / 127.5 - 1.0, torch::kFloat64);
  auto ll = discretized_gaussian_log_likelihood(x, x.clone(), torch::full({1}, std::log(1e-3), torch::kFloat64));
  EXPECT_GT(ll.item<double>(), std::log(0.999));
}

TEST(Losses, PriorKlMatchesClosedForm) {
  const auto s = make_schedule({});
  auto x0 = torch::tensor({{1.0, -1.0}}, torch::kFloat64);
  const double abar = s.alphas_cumprod[999].item<double>();
  // KL(N(√ᾱ x0, 1-ᾱ) || N(0,1)) = ½(-log(1-ᾱ) + (1-ᾱ) + ᾱ x0² - 1)
  const double expected = 0.5 * (-std::log(1 - abar) + (1 - abar) + abar * 1.0 - 1);
  auto kl = prior_kl(s, x0);
  EXPECT_NEAR(kl[0][0].item<double>(), expected, 1e-15);
  EXPECT_LT(kl.sum().item<double>(), 1e-4);  // the linear schedule's L_T is nearly zero
}

// Hang et al. 2023 eq. 7: w_t = min(SNR_t, γ)/SNR_t, SNR_t = ᾱ_t/(1 − ᾱ_t), with ᾱ_t = Π_{s≤t}(1 − β_s) computed
// here from the linear β's own formula, not from the schedule's tables.
TEST(MinSnrWeights, MatchTheirFormula) {
  const auto schedule = make_schedule({});
  const double gamma = 5.0;
  const std::vector<int64_t> steps = {0, 50, 100, 200, 400, 999};
  const auto w = min_snr_weights(schedule, torch::tensor(steps), gamma);
  for (size_t i = 0; i < steps.size(); ++i) {
    double abar = 1.0;
    for (int64_t s = 0; s <= steps[i]; ++s) abar *= 1.0 - (1e-4 + (0.02 - 1e-4) * s / 999.0);
    const double snr = abar / (1.0 - abar);
    EXPECT_NEAR(w[i].item<double>(), std::min(snr, gamma) / snr, 1e-9) << "t index " << steps[i];
  }
  // Low noise (SNR ≫ γ) is down-weighted, high noise (SNR < γ) keeps weight 1.
  EXPECT_LT(w[0].item<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(w[5].item<double>(), 1.0);
  EXPECT_ANY_THROW(min_snr_weights(schedule, torch::tensor(steps), 0.0));
}

// v's and x0's weights are the same x_0-error weighting min(SNR, γ) (Hang et al. eq. 7), divided by what their
// squared error is in x_0 terms: 1 + SNR for v, 1 for x0.
TEST(MinSnrWeights, FollowTheParameterisation) {
  const auto schedule = make_schedule({});
  const auto t = torch::tensor({0, 100, 300, 999});
  const auto abar = schedule.alphas_cumprod.index_select(0, t);
  const auto snr = abar / (1 - abar);
  EXPECT_TRUE(torch::allclose(min_snr_weights(schedule, t, 5.0, Prediction::v), snr.clamp_max(5.0) / (snr + 1)));
  EXPECT_TRUE(torch::allclose(min_snr_weights(schedule, t, 5.0, Prediction::x0), snr.clamp_max(5.0)));
}
