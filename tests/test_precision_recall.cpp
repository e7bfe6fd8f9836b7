// k-NN manifold precision and recall (Kynkäänniemi et al. 2019) on sets with hand-computed answers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/random.h"
#include "ddpm/evaluation/precision_recall.h"

using namespace ddpm;

TEST(EvalPrecisionRecall, RadiiAreTheKthNeighbourDistances) {
  auto x = torch::tensor({0.0, 1.0, 3.0, 7.0}, torch::kFloat64).unsqueeze(1);
  // Distances to the others: 0 → {1, 3, 7}; 1 → {1, 2, 6}; 3 → {3, 2, 4}; 7 → {7, 6, 4}.
  EXPECT_TRUE(torch::allclose(knn_radii(x, 1), torch::tensor({1.0, 1.0, 2.0, 4.0}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(knn_radii(x, 2), torch::tensor({3.0, 2.0, 3.0, 6.0}, torch::kFloat64)));
  EXPECT_THROW(knn_radii(x, 4), std::invalid_argument);
  EXPECT_THROW(knn_radii(x, 0), std::invalid_argument);
}

TEST(EvalPrecisionRecall, HandComputedSets) {
  auto real = torch::tensor({0.0, 1.0, 2.0, 3.0, 4.0}, torch::kFloat64).unsqueeze(1);  // k = 1 radii: all 1
  auto generated = torch::tensor({0.5, 10.0}, torch::kFloat64).unsqueeze(1);            // k = 1 radii: 9.5
  const auto pr = precision_recall(real, generated, 1);
  EXPECT_DOUBLE_EQ(pr.precision, 0.5);  // 0.5 lies in the ball of 0 (or 1); 10 in none
  EXPECT_DOUBLE_EQ(pr.recall, 1.0);     // every real point is within 9.5 of 0.5
}

TEST(EvalPrecisionRecall, IdenticalSetsAreCoveredAndDistantSetsAreNot) {
  auto gen = make_generator(0);
  auto x = torch::randn({300, 8}, gen);
  auto same = precision_recall(x, x, 3);
  EXPECT_DOUBLE_EQ(same.precision, 1.0);
  EXPECT_DOUBLE_EQ(same.recall, 1.0);
  // 100 standard deviations away: no ball reaches (k-NN radii of 300 points in 8-D are a few units).
  auto far = precision_recall(x, x + 100.0, 3);
  EXPECT_DOUBLE_EQ(far.precision, 0.0);
  EXPECT_DOUBLE_EQ(far.recall, 0.0);
  // Mode dropping: samples from half the data's support are precise but miss half of it.
  auto real = torch::cat({torch::randn({200, 2}, gen) * 0.1, torch::randn({200, 2}, gen) * 0.1 + 5.0});
  auto half = torch::randn({400, 2}, gen) * 0.1;
  auto dropped = precision_recall(real, half, 3);
  EXPECT_GT(dropped.precision, 0.85);  // same density where the samples are
  EXPECT_NEAR(dropped.recall, 0.5, 0.05);
}
