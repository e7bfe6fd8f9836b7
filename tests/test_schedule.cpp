// Schedules against closed forms.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>

#include "ddpm/core/schedule.h"

using namespace ddpm;

namespace {
double value(const torch::Tensor& t, int64_t i) { return t[i].item<double>(); }
}  // namespace

TEST(Schedule, LinearMatchesHoEtAl) {
  const auto s = make_schedule({});
  ASSERT_EQ(s.T, 1000);
  EXPECT_EQ(s.betas.scalar_type(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(value(s.betas, 0), 1e-4);
  EXPECT_NEAR(value(s.betas, 999), 0.02, 1e-15);
  // ᾱ_T = Π (1 - β_t), computed here in long double as the reference.
  long double prod = 1.0L;
  for (int i = 0; i < 1000; ++i) prod *= 1.0L - (1e-4L + (0.02L - 1e-4L) * i / 999.0L);
  EXPECT_NEAR(value(s.alphas_cumprod, 999), static_cast<double>(prod), 1e-12 * static_cast<double>(prod));
  // The figure quoted for Ho et al.'s schedule, 4.0358e-5, to the stated relative 1e-6... of its 5 digits.
  EXPECT_NEAR(value(s.alphas_cumprod, 999) / 4.0358e-5, 1.0, 1e-4);
}

TEST(Schedule, DerivedTablesAreConsistent) {
  const auto s = make_schedule({});
  // ᾱ_{t-1} shifted by one with ᾱ_0 = 1; β̃_1 = 0 (Ho et al. eq. 7 with ᾱ_0 = 1).
  EXPECT_DOUBLE_EQ(value(s.alphas_cumprod_prev, 0), 1.0);
  EXPECT_DOUBLE_EQ(value(s.alphas_cumprod_prev, 500), value(s.alphas_cumprod, 499));
  EXPECT_EQ(value(s.posterior_variance, 0), 0.0);
  // eq. 7 at t = 487 (index 486) against a direct evaluation, and diffusers' golden ≈ 0.00979.
  const int i = 486;
  const double b = value(s.betas, i), ab = value(s.alphas_cumprod, i), ab_prev = value(s.alphas_cumprod, i - 1);
  EXPECT_NEAR(value(s.posterior_variance, i), (1 - ab_prev) / (1 - ab) * b, 1e-15);
  EXPECT_NEAR(value(s.posterior_variance, i), 0.00979, 5e-5);
  // β̃_t < β_t for t > 1, since (1 - ᾱ_{t-1}) < (1 - ᾱ_t).
  EXPECT_TRUE(torch::all(s.posterior_variance.slice(0, 1) < s.betas.slice(0, 1)).item<bool>());
  // Posterior mean coefficients sum to ... the identity μ̃(x_t = √ᾱ_t x_0, x_0) = √ᾱ_{t-1} x_0.
  auto lhs = s.posterior_mean_coef1 + s.posterior_mean_coef2 * s.sqrt_alphas_cumprod;
  EXPECT_TRUE(torch::allclose(lhs, s.alphas_cumprod_prev.sqrt(), 1e-12, 1e-14));
  EXPECT_NEAR(value(s.snr, 10), value(s.alphas_cumprod, 10) / (1 - value(s.alphas_cumprod, 10)), 1e-9);
  EXPECT_TRUE(torch::isfinite(s.posterior_log_variance_clipped).all().item<bool>());
}

TEST(Schedule, CosineIsMonotoneAndClipped) {
  ScheduleConfig c;
  c.kind = "cosine";
  const auto s = make_schedule(c);
  EXPECT_GT(value(s.alphas_cumprod, 0), 0.9999);  // ᾱ_1 = f(1)/f(0) ≈ 1 - 4e-5
  EXPECT_TRUE(torch::all(s.alphas_cumprod.slice(0, 1) < s.alphas_cumprod.slice(0, 0, 999)).item<bool>());
  EXPECT_LE(s.betas.max().item<double>(), 0.999);
  EXPECT_NEAR(value(s.betas, 999), 0.999, 1e-12);  // the last step hits the clip
  // ᾱ_t = f(t)/f(0) before clipping becomes active (t = T/2 here).
  auto f = [](double t) { return std::pow(std::cos((t / 1000.0 + 0.008) / 1.008 * M_PI / 2), 2); };
  EXPECT_NEAR(value(s.alphas_cumprod, 499), f(500) / f(0), 1e-12);
}

TEST(Schedule, OtherKindsSpanTheirRange) {
  for (const char* kind : {"quadratic", "sigmoid"}) {
    ScheduleConfig c;
    c.kind = kind;
    const auto s = make_schedule(c);
    // quadratic starts exactly at β_start; sigmoid at β_start + (β_end - β_start)·sigmoid(-6) ≈ 1.49e-4.
    const double first = std::string(kind) == "sigmoid" ? 1e-4 + (0.02 - 1e-4) / (1 + std::exp(6.0)) : 1e-4;
    EXPECT_NEAR(value(s.betas, 0), first, 1e-12) << kind;
    const double last = std::string(kind) == "sigmoid" ? 1e-4 + (0.02 - 1e-4) / (1 + std::exp(-6.0)) : 0.02;
    EXPECT_NEAR(value(s.betas, 999), last, 1e-12) << kind;
    EXPECT_TRUE(torch::all(s.betas.slice(0, 1) >= s.betas.slice(0, 0, 999)).item<bool>()) << kind;
  }
}

// Other T: the linear schedule keeps its endpoints, so fewer steps destroy less of x_0.
TEST(Schedule, LinearWithOtherT) {
  ScheduleConfig c;
  c.timesteps = 100;
  const auto s = make_schedule(c);
  EXPECT_EQ(s.T, 100);
  EXPECT_NEAR(value(s.betas, 99), 0.02, 1e-15);
  // ᾱ_T = Π(1 - β_t) ≈ exp(-Σβ) = exp(-100 · 0.01005) ≈ 0.366: far from N(0, I).
  EXPECT_GT(value(s.alphas_cumprod, 99), 0.35);
  c.timesteps = 1;
  EXPECT_EQ(make_schedule(c).T, 1);
}

TEST(Schedule, CustomFileAndBadInput) {
  const std::string path = testing::TempDir() + "/betas.txt";
  {
    std::ofstream f(path);
    f << "0.1\n0.2 0.3\n";
  }
  ScheduleConfig c;
  c.kind = "custom";
  c.betas_file = path;
  c.timesteps = 0;  // T from the file
  const auto s = make_schedule(c);
  ASSERT_EQ(s.T, 3);
  EXPECT_NEAR(value(s.alphas_cumprod, 2), 0.9 * 0.8 * 0.7, 1e-15);
  c.timesteps = 3;
  EXPECT_EQ(make_schedule(c).T, 3);
  // A T other than the file's count is refused, naming the file and both counts.
  c.timesteps = 1000;
  try {
    make_schedule(c);
    ADD_FAILURE() << "T = 1000 with 3 betas in the file was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'" + path + "' holds 3 betas, but timesteps is 1000"), std::string::npos) << e.what();
  }
  c.timesteps = 0;
  // Recorded values win over the file: a run does not depend on the file staying unchanged.
  ScheduleConfig recorded = c;
  recorded.betas = {0.5, 0.5};
  EXPECT_NEAR(value(make_schedule(recorded).alphas_cumprod, 1), 0.25, 1e-15);

  {
    std::ofstream f(path);
    f << "0.1 abc\n";
  }
  EXPECT_THROW(make_schedule(c), std::invalid_argument);
  {
    std::ofstream f(path);
    f << "0.1 1.5\n";
  }
  EXPECT_THROW(make_schedule(c), std::invalid_argument);
  c.betas_file = path + ".missing";
  EXPECT_THROW(make_schedule(c), std::invalid_argument);
  ScheduleConfig bad;
  bad.kind = "nonsense";
  EXPECT_THROW(make_schedule(bad), std::invalid_argument);
  bad.kind = "linear";
  bad.timesteps = 0;
  EXPECT_THROW(make_schedule(bad), std::invalid_argument);
}

TEST(Schedule, ExtractBroadcastsPerExample) {
  const auto s = make_schedule({});
  auto x = torch::zeros({3, 2, 4, 4});
  auto t = torch::tensor({0, 499, 999}, torch::kLong);
  auto v = extract(s.alphas_cumprod, t, x);
  ASSERT_EQ(v.sizes(), (std::vector<int64_t>{3, 1, 1, 1}));
  EXPECT_EQ(v.scalar_type(), torch::kFloat32);
  EXPECT_FLOAT_EQ(v[2].item<float>(), static_cast<float>(value(s.alphas_cumprod, 999)));
}
