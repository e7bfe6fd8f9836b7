// The parameterisations (core/prediction.h): ε, x0 and v are exact re-expressions of one another, checked on the
// Gaussian oracle, whose ideal ε*, x_0* = E[x_0 | x_t] and v* are known; and a network that predicts v or x0
// reaches every sampler as the same ε.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/core/forward_process.h"
#include "ddpm/core/prediction.h"
#include "ddpm/core/random.h"
#include "ddpm/core/reverse_process.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/models/model_config.h"

using namespace ddpm;

TEST(Prediction, TargetsTurnBackIntoTheNoise) {
  const auto schedule = make_schedule({});
  auto gen = make_generator(31);
  const auto x0 = torch::randn({64, 3}, gen, torch::kFloat64);
  const auto eps = torch::randn({64, 3}, gen, torch::kFloat64);
  const auto t = torch::randint(0, 1000, {64}, gen, torch::kLong);
  const auto x_t = q_sample(schedule, x0, t, eps);
  for (const auto& name : prediction_kinds()) {
    const auto kind = parse_prediction(name);
    const auto target = prediction_target(kind, schedule, x0, eps, t);
    EXPECT_TRUE(torch::allclose(eps_from_prediction(kind, schedule, x_t, t, target), eps, 1e-9, 1e-9)) << name;
  }
  // v = √ᾱ ε − √(1 − ᾱ) x_0 (Salimans & Ho 2022) at one step, by hand.
  const auto abar = schedule.alphas_cumprod[t[0]].item<double>();
  const auto v = prediction_target(Prediction::v, schedule, x0, eps, t);
  EXPECT_TRUE(torch::allclose(v[0], std::sqrt(abar) * eps[0] - std::sqrt(1 - abar) * x0[0], 1e-12, 1e-12));
  EXPECT_THROW(parse_prediction("score"), std::invalid_argument);
}

// For data N(m, s²) the ideal predictions are linear in x_t: x_0* = E[x_0 | x_t] follows from ε* by eq. 15 (the
// expectation is linear), and v* = √ᾱ ε* − √(1 − ᾱ) x_0*. Converted back they must give ε* itself.
TEST(Prediction, IdealPredictionsOfGaussianDataAgree) {
  const auto schedule = make_schedule({});
  const double m = 0.5, s = 0.3;
  const auto eps_star = gaussian_noise_predictor(schedule, m, s);
  auto gen = make_generator(32);
  const auto x_t = torch::randn({200, 1}, gen, torch::kFloat64);
  const auto t = torch::randint(0, 1000, {200}, gen, torch::kLong);
  const auto eps = eps_star(x_t, t);
  // E[x_0 | x_t] for Gaussian data directly: m + √ᾱ s² (x_t − √ᾱ m) / (ᾱ s² + 1 − ᾱ).
  const auto abar = schedule.alphas_cumprod.index_select(0, t).unsqueeze(1);
  const auto x0_star = m + abar.sqrt() * s * s * (x_t - abar.sqrt() * m) / (abar * s * s + 1 - abar);
  EXPECT_TRUE(torch::allclose(predict_x0_from_eps(schedule, x_t, t, eps), x0_star, 1e-9, 1e-9));
  const auto v_star = abar.sqrt() * eps - (1 - abar).sqrt() * x0_star;
  EXPECT_TRUE(torch::allclose(eps_from_prediction(Prediction::x0, schedule, x_t, t, x0_star), eps, 1e-7, 1e-9));
  EXPECT_TRUE(torch::allclose(eps_from_prediction(Prediction::v, schedule, x_t, t, v_star), eps, 1e-9, 1e-9));
}

// A v-predicting network reaches the samplers through network_predictor as ε, and its config keeps the choice.
TEST(Prediction, NetworkPredictorConvertsAndTheConfigKeepsIt) {
  auto config = model_preset("mlp-2d");
  config.prediction = Prediction::v;
  nlohmann::json j = config;
  EXPECT_EQ(j["prediction"], "v");
  EXPECT_EQ(j.get<ModelConfig>().prediction, Prediction::v);
  EXPECT_FALSE(nlohmann::json(model_preset("mlp-2d")).contains("prediction"));  // ε files stay as they were
  j["prediction"] = "score";
  EXPECT_THROW(j.get<ModelConfig>(), std::invalid_argument);
  torch::manual_seed(3);
  auto net = build_model(config);
  ASSERT_EQ(net->prediction(), Prediction::v);
  const auto schedule = make_schedule({});
  const auto x = torch::randn({5, 2});
  const auto t = torch::tensor({0, 10, 200, 600, 999});
  const auto eps = network_predictor(*net, schedule)(x, t);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(eps, eps_from_prediction(Prediction::v, schedule, x, t, net->forward(x, t))));
  EXPECT_FALSE(torch::allclose(eps, net->forward(x, t)));
}
