// The MLP denoiser for point data: size, shapes, time conditioning, gradients, FLOPs, config errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/models/mlp.h"
#include "ddpm/models/model_config.h"

using namespace ddpm;

TEST(MLP, Mlp2dPresetHasTheHandCountedSize) {
  const auto c = model_preset("mlp-2d");
  ASSERT_EQ(c.arch, "mlp");
  // (2 + 64) → 128, 128 → 128 twice, 128 → 2, each with a bias.
  const int64_t expected = (66 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2);
  EXPECT_EQ(parameter_count(*build_model(c)), expected);
  EXPECT_EQ(forward_flops_per_sample(c), 2 * (66 * 128 + 2 * 128 * 128 + 128 * 2));
}

TEST(MLP, ShapesTimeConditioningAndGradients) {
  torch::manual_seed(0);
  MLPConfig c;
  c.data_dim = 3, c.hidden = 16, c.depth = 2, c.time_embed_dim = 8;
  MLPImpl net(c);
  const auto x = torch::randn({1, 3}).repeat({2, 1});
  const auto y = net.forward(x, torch::tensor({1, 900}, torch::kLong));
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_GT((y[0] - y[1]).abs().max().item<double>(), 1e-5);
  y.pow(2).sum().backward();
  for (const auto& p : net.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().max().item<double>(), 0.0) << p.key();
  }
  EXPECT_THROW(net.forward(torch::randn({2, 2}), torch::tensor({1, 2}, torch::kLong)), c10::Error);
}

TEST(MLP, RejectsBadConfig) {
  MLPConfig c;
  c.depth = 0;
  EXPECT_THROW(MLPImpl{c}, std::invalid_argument);
  c = MLPConfig{};
  c.time_embed_dim = 2;
  EXPECT_THROW(MLPImpl{c}, std::invalid_argument);
}
