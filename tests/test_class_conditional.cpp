// Class-conditional networks and classifier-free guidance (Ho & Salimans 2021), proven where the answer is
// known: the guidance formula itself, Gaussian data whose guided law is exact, the Gaussian-mixture oracle
// whose classes are its components, and the networks' class embedding (names, counts, starting as the
// unconditional network it extends).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/core/guidance.h"
#include "ddpm/core/random.h"
#include "ddpm/data/dataset.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/model_size.h"
#include "ddpm/models/module_weights.h"
#include "ddpm/samplers/sampler.h"

using namespace ddpm;

namespace {

// ε(x, t, c) = c (as a number) in every coordinate, counting the calls and rows it sees.
struct CountingPredictor {
  int64_t calls = 0, rows = 0;
  ClassNoisePredictor predictor() {
    return [this](const torch::Tensor& x, const torch::Tensor&, const torch::Tensor& labels) {
      ++calls;
      rows += x.size(0);
      return labels.to(torch::kDouble).unsqueeze(1).expand_as(x).clone();
    };
  }
};

}  // namespace

TEST(Guidance, IsHoAndSalimansEquation6InOneBatchedCall) {
  const int64_t null_label = 5;
  const auto labels = torch::tensor({0, 2, 4, 5}, torch::kLong);
  const auto x = torch::zeros({4, 3}, torch::kDouble);
  const auto t = torch::zeros({4}, torch::kLong);
  for (const double w : {0.0, 1.0, 3.0}) {
    CountingPredictor counting;
    const auto guided = class_guided_predictor(counting.predictor(), labels, w, null_label)(x, t);
    // (1 + w) c − w · null_label, and the null label's own rows unguided: (1 + w) 5 − 5 w = 5.
    const auto expected = ((1.0 + w) * labels.to(torch::kDouble) - w * null_label).unsqueeze(1).expand_as(x);
    EXPECT_TRUE(torch::allclose(guided, expected)) << "w = " << w;
    EXPECT_EQ(counting.calls, 1) << "w = " << w;
    EXPECT_EQ(counting.rows, w == 0 ? 4 : 8) << "w = 0 needs no unconditional prediction";
  }
}

TEST(Guidance, RefusesBadWeightsAndLabels) {
  CountingPredictor counting;
  const auto labels = torch::tensor({0, 1}, torch::kLong);
  EXPECT_THROW(class_guided_predictor(counting.predictor(), labels, -1.0, 2), std::invalid_argument);
  EXPECT_THROW(class_guided_predictor(counting.predictor(), labels, std::nan(""), 2), std::invalid_argument);
  EXPECT_THROW(class_guided_predictor(counting.predictor(), torch::tensor({0, 3}, torch::kLong), 1.0, 2),
               std::invalid_argument);
  EXPECT_THROW(class_guided_predictor(counting.predictor(), torch::tensor({0.0, 1.0}), 1.0, 2), std::invalid_argument);
}

// Gaussian classes of equal variance: q(x|c) = N(μ_c, s²), q(x) = N(μ, s²). At every t the guided score
// (1 + w)∇log q_t(x|c) − w∇log q_t(x) is exactly the score of q_t for data N(μ̃, s²), μ̃ = (1 + w)μ_c − wμ, which
// is also q(x|c)^(1+w) q(x)^(−w) normalised. So guided sampling must follow, path by path, the unguided sampler
// of N(μ̃, s²) (to float rounding), and its samples must have that law (to the sampler's discretization error).
TEST(Guidance, GaussianClassesSampleTheTiltedLawExactly) {
  const auto schedule = make_schedule({});
  const double class_mean = 1.0, data_mean = -1.0, sd = 0.5;
  const auto conditional = gaussian_noise_predictor(schedule, class_mean, sd);
  const auto unconditional = gaussian_noise_predictor(schedule, data_mean, sd);
  const ClassNoisePredictor eps = [&](const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& labels) {
    const auto is_class = (labels == 0).to(x.dtype()).unsqueeze(1);
    return is_class * conditional(x, t) + (1 - is_class) * unconditional(x, t);
  };
  const int64_t n = 20000;
  for (const std::string kind : {"ancestral", "ddim"})
    for (const double w : {1.0, 3.0}) {
      SCOPED_TRACE(kind + ", w = " + std::to_string(w));
      const double tilted_mean = (1 + w) * class_mean - w * data_mean;
      SamplerSpec spec;
      spec.kind = kind;
      spec.steps = kind == "ddim" ? 250 : 0;
      auto gen_a = make_generator(21), gen_b = make_generator(21);
      const auto x_T = torch::randn({n, 1}, gen_a, torch::kDouble);
      torch::randn({n, 1}, gen_b, torch::kDouble);
      const auto guided = run_sampler(schedule, class_guided_predictor(eps, torch::zeros({n}, torch::kLong), w, 1), x_T,
                                      gen_a, spec);
      const auto tilted = run_sampler(schedule, gaussian_noise_predictor(schedule, tilted_mean, sd), x_T, gen_b, spec);
      EXPECT_LT((guided - tilted).abs().max().item<double>(), 1e-9);
      // The law: 4 standard errors plus the sampler's own discretization error (≤ 1 % of the mean, 5 % of the
      // variance at these step counts: test_ancestral_gaussian.cpp).
      EXPECT_NEAR(guided.mean().item<double>(), tilted_mean, 4 * sd / std::sqrt(n) + 0.01 * tilted_mean);
      EXPECT_NEAR(guided.var().item<double>(), sd * sd, 4 * sd * sd * std::sqrt(2.0 / (n - 1)) + 0.05 * sd * sd);
    }
}

// The mixture's components as classes: asking for class k must give component k's law (the conditional
// denoiser is the single Gaussian's), asking for none the whole mixture in its proportions; guidance must
// push class 0's samples away from the other component as w grows.
TEST(Guidance, MixtureClassesLandInTheirComponent) {
  const auto schedule = make_schedule({});
  const auto mixture = builtin_mixture("two-modes");  // 0.3 N((-2, 0), 0.25 I) + 0.7 N((2, 0), 0.25 I)
  const auto eps = mixture_class_predictor(mixture, schedule);
  const int64_t n = 4000;
  SamplerSpec spec;
  spec.kind = "ddim";
  spec.steps = 100;
  const auto sample = [&](int64_t label, double w) {
    auto gen = make_generator(5);
    return run_sampler(schedule, class_guided_predictor(eps, torch::full({n}, label, torch::kLong), w, 2),
                       torch::randn({n, 2}, gen, torch::kDouble), gen, spec);
  };
  for (int64_t k = 0; k < 2; ++k) {
    SCOPED_TRACE("class " + std::to_string(k));
    const auto x = sample(k, 0.0);
    const auto mean = x.mean(0), centred = x - mean;
    const auto covariance = centred.t().mm(centred) / (n - 1);
    // 4 standard errors (0.5/√n = 0.008 per coordinate) plus 0.02 of discretization; covariance within 10 %.
    EXPECT_TRUE(torch::allclose(mean, mixture.means[k], 0, 4 * 0.5 / std::sqrt(n) + 0.02)) << mean;
    EXPECT_TRUE(torch::allclose(covariance, mixture.covariances[k], 0, 0.025)) << covariance;
    EXPECT_EQ(assign_components(mixture, x).eq(k).sum().item<int64_t>(), n);
  }
  // No class: the mixture's weights, within 4 binomial standard errors.
  const double share = assign_components(mixture, sample(2, 0.0)).eq(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(share, 0.3, 4 * std::sqrt(0.3 * 0.7 / n) + 0.01);
  // Guidance moves class 0 away from component 1 at (2, 0): its mean's first coordinate falls with w.
  double previous = sample(0, 0.0).select(1, 0).mean().item<double>();
  for (const double w : {1.0, 3.0}) {
    const double now = sample(0, w).select(1, 0).mean().item<double>();
    EXPECT_LT(now, previous - 0.01) << "w = " << w;
    previous = now;
  }
}

TEST(ClassNames, ByNameIndexOrNone) {
  ModelConfig config = model_preset("mlp-2d");
  EXPECT_THROW(class_label(config, "0"), std::invalid_argument);  // unconditional
  config.class_names = {"cat", "dog", "2"};
  EXPECT_EQ(class_label(config, "dog"), 1);
  EXPECT_EQ(class_label(config, "0"), 0);
  EXPECT_EQ(class_label(config, "2"), 2);
  EXPECT_EQ(class_label(config, "none"), 3);
  EXPECT_THROW(class_label(config, "3"), std::invalid_argument);
  EXPECT_THROW(class_label(config, "bird"), std::invalid_argument);
  EXPECT_THROW(check_class_names({"a", "a"}, "x"), std::invalid_argument);
  EXPECT_THROW(check_class_names({"a", "none"}, "x"), std::invalid_argument);
  EXPECT_THROW(check_class_names({"a", ""}, "x"), std::invalid_argument);
  EXPECT_THROW(check_class_names({"1", "0"}, "x"), std::invalid_argument);  // a number names its own label
}

TEST(ClassNames, RoundTripInTheModelConfigAndUnconditionalFilesUnchanged) {
  ModelConfig config = model_preset("fashion");
  EXPECT_FALSE(nlohmann::json(config).contains("class_names"));
  config.class_names = {"T-shirt/top", "Trouser"};
  const auto back = nlohmann::json(config).get<ModelConfig>();
  EXPECT_EQ(back.class_names, config.class_names);
  auto j = nlohmann::json(config);
  j["class_names"] = {"a", "a"};
  EXPECT_THROW(j.get<ModelConfig>(), std::invalid_argument);
}

TEST(ClassEmbedding, LaidOutAsDiffusersAndCountedWithoutBuilding) {
  for (const std::string preset : {"fashion", "mlp-2d"}) {
    SCOPED_TRACE(preset);
    ModelConfig config = model_preset(preset);
    const auto plain = build_model(config);
    EXPECT_EQ(plain->named_parameters().find("class_embedding.weight"), nullptr);
    config.class_names = {"a", "b", "c"};
    const auto net = build_model(config);
    const auto parameters = net->named_parameters();
    const auto* embedding = parameters.find("class_embedding.weight");
    ASSERT_NE(embedding, nullptr);
    const int64_t width = preset == "fashion" ? 4 * config.unet.base_channels : config.mlp.time_embed_dim;
    EXPECT_EQ(embedding->sizes(), (std::vector<int64_t>{4, width}));  // K + 1 rows: diffusers' num_class_embeds
    EXPECT_EQ(planned_parameter_count(config), parameter_count(*net));
    EXPECT_EQ(parameter_count(*net), parameter_count(*plain) + 4 * width);
  }
}

TEST(ClassEmbedding, LabelsChangeThePredictionAndAreChecked) {
  ModelConfig config = model_preset("mlp-2d");
  auto plain = build_model(config);
  config.class_names = {"a", "b"};
  auto net = build_model(config);
  net->eval();
  const auto x = torch::randn({3, 2});
  const auto t = torch::tensor({10, 500, 900}, torch::kLong);
  torch::NoGradGuard no_grad;
  const auto a = net->forward(x, t, torch::zeros({3}, torch::kLong));
  const auto b = net->forward(x, t, torch::ones({3}, torch::kLong));
  EXPECT_FALSE(torch::allclose(a, b));
  EXPECT_THROW(net->forward(x, t), c10::Error);                                      // no labels
  EXPECT_THROW(net->forward(x, t, torch::full({3}, 3, torch::kLong)), std::invalid_argument);  // beyond the null label
  EXPECT_THROW(plain->forward(x, t, torch::zeros({3}, torch::kLong)), c10::Error);   // an unconditional network

  // Unconditional weights given classes: every shared tensor copied, the class embedding kept as initialised.
  const auto embedding = net->named_parameters()["class_embedding.weight"].clone();
  copy_shared_weights(*net, *plain);
  for (const auto& p : plain->named_parameters()) EXPECT_TRUE(torch::equal(net->named_parameters()[p.key()], p.value())) << p.key();
  EXPECT_TRUE(torch::equal(net->named_parameters()["class_embedding.weight"], embedding));
  EXPECT_THROW(copy_shared_weights(*plain, *net), c10::Error);  // a tensor with no place
}

TEST(ClassLabels, DataSetsCarryTheirNames) {
  auto images = torch::zeros({4, 1, 2, 2}, torch::kUInt8);
  const auto numbered = make_image_dataset("toy", images, torch::tensor({0, 2, 1, 2}));
  EXPECT_EQ(numbered.class_names, (std::vector<std::string>{"0", "1", "2"}));
  const auto named = make_image_dataset("toy", images, torch::tensor({0, 1, 1, 0}), {"cat", "dog", "bird"});
  EXPECT_EQ(named.class_names.size(), 3u);  // a class no example has is still a class
  EXPECT_THROW(make_image_dataset("toy", images, torch::tensor({0, 3, 1, 0}), {"cat", "dog"}), std::invalid_argument);
  EXPECT_THROW(make_image_dataset("toy", images, torch::tensor({0, -1, 1, 0})), std::invalid_argument);
}
