// The learning-rate and EMA schedules at pinned steps, and the gradient of accumulated micro-batches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/core/losses.h"
#include "ddpm/core/prediction.h"
#include "ddpm/core/random.h"
#include "ddpm/models/model_config.h"
#include "ddpm/training/ema.h"
#include "ddpm/training/gradient_step.h"
#include "ddpm/training/lr_schedule.h"

using namespace ddpm;

TEST(LrSchedule, WarmupStartsAtOneStepsWorth) {
  const LrSchedule s{"constant", 1.0, 4, 0};
  EXPECT_DOUBLE_EQ(lr_at(s, 1), 0.25);  // step 1 trains at lr/warmup
  EXPECT_DOUBLE_EQ(lr_at(s, 2), 0.5);
  EXPECT_DOUBLE_EQ(lr_at(s, 4), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 5), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(s, 1000000), 1.0);
  EXPECT_DOUBLE_EQ(lr_at({"constant", 0.1, 0, 0}, 1), 0.1);  // no warm-up
  EXPECT_THROW(lr_at(s, 0), std::invalid_argument);
}

// Warm-up 4, decay ending at step 14: progress p = (step - 5)/10.
TEST(LrSchedule, CosineAndLinearDecay) {
  const LrSchedule cosine{"cosine", 2.0, 4, 14}, linear{"linear", 2.0, 4, 14};
  EXPECT_DOUBLE_EQ(lr_at(cosine, 4), 2.0);
  EXPECT_DOUBLE_EQ(lr_at(cosine, 5), 2.0);
  EXPECT_NEAR(lr_at(cosine, 10), 1.0, 1e-15);
  EXPECT_NEAR(lr_at(cosine, 14), 1.0 + std::cos(0.9 * M_PI), 1e-15);  // the last step still learns
  EXPECT_EQ(lr_at(cosine, 15), 0.0);
  EXPECT_EQ(lr_at(cosine, 100), 0.0);
  EXPECT_DOUBLE_EQ(lr_at(linear, 5), 2.0);
  EXPECT_NEAR(lr_at(linear, 10), 1.0, 1e-15);
  EXPECT_NEAR(lr_at(linear, 14), 0.2, 1e-15);
  EXPECT_EQ(lr_at(linear, 15), 0.0);
  EXPECT_DOUBLE_EQ(lr_at({"cosine", 2.0, 4, 3}, 10), 2.0);  // a run that ends in its warm-up never decays
  EXPECT_THROW(lr_at({"step", 2.0, 4, 14}, 5), std::invalid_argument);
}

TEST(EmaWarmup, PinnedDecays) {
  EXPECT_DOUBLE_EQ(ema_warmup_decay("ratio", 0), 0.1);
  EXPECT_DOUBLE_EQ(ema_warmup_decay("ratio", 90), 0.91);
  EXPECT_DOUBLE_EQ(ema_warmup_decay("power", 0), 0.0);  // the first update copies the weights
  EXPECT_NEAR(ema_warmup_decay("power", 7), 0.75, 1e-15);     // 1 - 8^(-2/3)
  EXPECT_NEAR(ema_warmup_decay("power", 999), 0.99, 1e-15);   // 1 - 1000^(-2/3)
  EXPECT_EQ(ema_warmup_decay("none", 0), 1.0);
  EXPECT_THROW(ema_warmup_decay("linear", 0), std::invalid_argument);

  Ema ema(0.5, "ratio");
  EXPECT_DOUBLE_EQ(ema.current_decay(), 0.1);
  ema.set_updates(90);
  EXPECT_DOUBLE_EQ(ema.current_decay(), 0.5);  // capped by the decay
  EXPECT_DOUBLE_EQ(Ema(0.5, "none").current_decay(), 0.5);
  EXPECT_THROW(Ema(1.5, "ratio"), std::invalid_argument);
  EXPECT_THROW(Ema(0.9, "bogus"), std::invalid_argument);
}

namespace {

// The gradient of one batch of 32 points, split into `micro` micro-batches.
std::vector<torch::Tensor> gradient(int64_t micro, GradientStep* out, double clip = 1e9, double min_snr_gamma = 0.0) {
  torch::manual_seed(5);
  auto net = build_model(model_preset("mlp-2d"));
  auto gen = make_generator(11);
  const auto x0 = torch::randn({32, 2}, gen);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1));
  GradientOptions options;
  options.micro_batches = micro;
  options.grad_clip = clip;
  options.min_snr_gamma = min_snr_gamma;
  *out = compute_gradient(*net, sgd, make_schedule({}), x0, gen, options);
  std::vector<torch::Tensor> grads;
  for (const auto& p : net->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

}  // namespace

// K micro-batches give the gradient of the whole batch's mean loss (the same t and ε), to float rounding.
TEST(GradientAccumulation, MicroBatchesGiveTheWholeBatchsGradient) {
  GradientStep whole, split;
  const auto g1 = gradient(1, &whole), g4 = gradient(4, &split);
  EXPECT_TRUE(torch::equal(whole.t, split.t));
  EXPECT_TRUE(torch::allclose(whole.per_example, split.per_example, 1e-6, 1e-7));
  EXPECT_NEAR(whole.loss, split.loss, 1e-6);
  EXPECT_NEAR(whole.grad_norm, split.grad_norm, 1e-5 * whole.grad_norm);
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_TRUE(torch::allclose(g1[i], g4[i], 1e-5, 1e-7)) << "parameter " << i;
  GradientStep bad;
  EXPECT_THROW(gradient(5, &bad), c10::Error);  // 32 rows do not split into 5
}

// The norm is reported before clipping; 0 means no clipping.
TEST(GradientAccumulation, ClipAndNoClip) {
  GradientStep unclipped, clipped;
  const auto g0 = gradient(1, &unclipped, 0.0), g1 = gradient(1, &clipped, 1e-3);
  EXPECT_DOUBLE_EQ(unclipped.grad_norm, clipped.grad_norm);
  double norm0 = 0, norm1 = 0;
  for (size_t i = 0; i < g0.size(); ++i) norm0 += g0[i].pow(2).sum().item<double>(), norm1 += g1[i].pow(2).sum().item<double>();
  EXPECT_NEAR(std::sqrt(norm0), unclipped.grad_norm, 1e-5 * unclipped.grad_norm);
  EXPECT_GT(unclipped.grad_norm, 1e-2);
  EXPECT_NEAR(std::sqrt(norm1), 1e-3, 1e-8);
}

// Min-SNR-γ minimises the weighted mean of the same per-example L_simple terms (same t and ε), so its objective
// is their mean weighted by core/losses.h's weights, and micro-batches still give the whole batch's gradient.
TEST(GradientAccumulation, MinSnrWeightsTheSameTerms) {
  GradientStep plain, weighted, weighted_split;
  gradient(1, &plain);
  const auto g1 = gradient(1, &weighted, 1e9, 5.0), g4 = gradient(4, &weighted_split, 1e9, 5.0);
  EXPECT_TRUE(torch::equal(plain.per_example, weighted.per_example));
  const auto w = min_snr_weights(make_schedule({}), weighted.t, 5.0).to(torch::kFloat32);
  EXPECT_NEAR(weighted.loss, (weighted.per_example * w).mean().item<double>(), 1e-6);
  EXPECT_LE(weighted.loss, plain.loss);  // every weight is at most 1
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_TRUE(torch::allclose(g1[i], g4[i], 1e-5, 1e-7)) << "parameter " << i;
}
