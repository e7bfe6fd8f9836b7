// The U-Net's dropout (models/dropout.h): inverted-dropout values, the drop rate and pairwise independence
// within statistical tolerances, seeding by LibTorch's default generator, gradients through the mask.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/models/dropout.h"

TEST(Dropout, KeptValuesAreScaledAndDropRateIsP) {
  torch::manual_seed(1);
  const double p = 0.1;
  const int64_t n = 1 << 20;
  const auto x = torch::ones({n});
  const auto y = ddpm::dropout(x, p, true);
  const auto dropped = y.eq(0);
  // Every element is 0 or exactly 1/(1 - p).
  EXPECT_TRUE(torch::logical_or(dropped, y.eq(static_cast<float>(1.0 / (1.0 - p)))).all().item<bool>());
  const double rate = dropped.to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(rate, p, 5.0 * std::sqrt(p * (1 - p) / n));  // 5 standard errors
  // Neighbours (which share a thread and a counter step) are independent: P(both dropped) = p².
  const auto both = torch::logical_and(dropped.slice(0, 0, n - 1), dropped.slice(0, 1, n)).to(torch::kFloat64).mean();
  EXPECT_NEAR(both.item<double>(), p * p, 5.0 * std::sqrt(p * p * (1 - p * p) / n));
}

TEST(Dropout, SeedFixesTheMaskAndCallsDiffer) {
  const auto x = torch::randn({4, 8, 16, 16});
  torch::manual_seed(7);
  const auto a = ddpm::dropout(x, 0.3, true);
  const auto b = ddpm::dropout(x, 0.3, true);
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(a, ddpm::dropout(x, 0.3, true)));
  EXPECT_FALSE(torch::equal(a, b));
}

TEST(Dropout, EvalAndZeroRateAreIdentity) {
  const auto x = torch::randn({3, 5});
  EXPECT_TRUE(ddpm::dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(ddpm::dropout(x, 0.0, true).is_same(x));
}

TEST(Dropout, GradientIsTheMask) {
  torch::manual_seed(2);
  auto x = torch::randn({1000}, torch::requires_grad());
  const auto y = ddpm::dropout(x, 0.25, true);
  y.sum().backward();
  const auto mask = y.detach().ne(0).to(torch::kFloat32) * static_cast<float>(1.0 / 0.75);
  EXPECT_TRUE(torch::equal(x.grad(), mask));
}
