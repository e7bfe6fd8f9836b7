// The Gaussian-mixture closed forms: score against finite differences, ε* against the single-Gaussian
// denoiser, sampling proportions, and the JSON reader's errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/random.h"

using namespace ddpm;

namespace {

// A 2-D mixture with unequal, full covariances, so the eigen-decomposition path is exercised.
GaussianMixture skewed_mixture() {
  GaussianMixture m;
  m.weights = {0.2, 0.5, 0.3};
  m.means = torch::tensor({{-1.5, 0.5}, {1.0, 1.0}, {0.0, -2.0}}, torch::kFloat64);
  m.covariances = torch::tensor({{{0.3, 0.1}, {0.1, 0.2}}, {{0.5, -0.2}, {-0.2, 0.4}}, {{0.1, 0.0}, {0.0, 0.6}}},
                                torch::kFloat64);
  return m;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(GaussianMixture, ScoreMatchesFiniteDifferences) {
  const auto m = skewed_mixture();
  validate_mixture(m);
  auto gen = make_generator(1);
  auto x = 2.0 * torch::randn({50, 2}, gen, torch::kFloat64);
  for (double ab : {1.0, 0.5, 0.01}) {
    auto alpha_bar = torch::full({1}, ab, torch::kFloat64);
    auto score = mixture_score(m, x, alpha_bar);
    const double h = 1e-5;
    for (int j = 0; j < 2; ++j) {
      auto e = torch::zeros({1, 2}, torch::kFloat64);
      e[0][j] = h;
      auto fd = (log_density(m, x + e, alpha_bar) - log_density(m, x - e, alpha_bar)) / (2 * h);
      // Central differences err by O(h²·q''') ≈ 1e-9 plus rounding 1e-16/h ≈ 1e-11.
      EXPECT_LT((fd - score.select(1, j)).abs().max().item<double>(), 1e-6) << "alpha_bar " << ab;
    }
  }
}

TEST(GaussianMixture, DenoiserOfOneComponentIsTheGaussianDenoiser) {
  const auto schedule = make_schedule({});
  GaussianMixture m{{1.0}, torch::full({1, 3}, 0.7, torch::kFloat64), 0.25 * torch::eye(3, torch::kFloat64).unsqueeze(0)};
  auto exact = gaussian_noise_predictor(schedule, 0.7, 0.5);
  auto mixture = mixture_noise_predictor(m, schedule);
  auto gen = make_generator(2);
  auto x = torch::randn({64, 3}, gen, torch::kFloat64);
  auto t = torch::randint(0, 1000, {64}, gen, torch::kLong);
  EXPECT_TRUE(torch::allclose(mixture(x, t), exact(x, t), 1e-10, 1e-12));
  // float32 in, float32 out.
  EXPECT_EQ(mixture(x.to(torch::kFloat32), t).scalar_type(), torch::kFloat32);
}

TEST(GaussianMixture, StableFarFromEveryMode) {
  const auto m = builtin_mixture("grid25");
  auto x = torch::tensor({{1e3, -1e3}, {0.5, 0.5}}, torch::kFloat64);
  // Far away every component's density underflows; log-sum-exp keeps the score finite (≈ -(x - μ)/σ²).
  auto s = mixture_score(m, x, torch::ones({1}, torch::kFloat64));
  EXPECT_TRUE(torch::isfinite(s).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(log_density(m, x)).all().item<bool>());
}

TEST(GaussianMixture, DiffuseAgreesWithPerPointAlphaBar) {
  const auto m = skewed_mixture();
  auto gen = make_generator(3);
  auto x = torch::randn({20, 2}, gen, torch::kFloat64);
  const auto q = diffuse(m, 0.3);
  EXPECT_TRUE(torch::allclose(log_density(q, x), log_density(m, x, torch::full({20}, 0.3, torch::kFloat64)),
                              1e-12, 1e-12));
  // One Gaussian: log N(0; 0, I_2) = -log 2π.
  GaussianMixture g{{1.0}, torch::zeros({1, 2}, torch::kFloat64), torch::eye(2, torch::kFloat64).unsqueeze(0)};
  EXPECT_NEAR(log_density(g, torch::zeros({1, 2})).item<double>(), -std::log(2 * M_PI), 1e-12);
}

TEST(GaussianMixture, SamplesHaveTheWeightsAndMeans) {
  const auto m = skewed_mixture();
  auto gen = make_generator(4);
  const int64_t n = 20000;
  auto s = sample_mixture(m, n, gen, torch::kFloat64);
  ASSERT_EQ(s.points.sizes(), (std::vector<int64_t>{n, 2}));
  for (int64_t k = 0; k < 3; ++k) {
    auto in_k = s.labels.eq(k);
    const double p = in_k.to(torch::kFloat64).mean().item<double>(), w = m.weights[k];
    EXPECT_NEAR(p, w, 4 * std::sqrt(w * (1 - w) / n)) << "component " << k;  // 4 binomial standard errors
    auto pts = s.points.index({in_k});
    auto mean_err = (pts.mean(0) - m.means[k]).abs().max().item<double>();
    EXPECT_LT(mean_err, 4 * std::sqrt(0.6 / pts.size(0)));  // 4 SE with the largest variance, 0.6
  }
  EXPECT_EQ(sample_points(m, 5, gen).scalar_type(), torch::kFloat32);
}

TEST(GaussianMixture, BuiltinsAreValid) {
  for (const auto& name : builtin_mixture_names()) EXPECT_NO_THROW(validate_mixture(builtin_mixture(name))) << name;
  EXPECT_EQ(builtin_mixture("ring8").components(), 8);
  EXPECT_EQ(builtin_mixture("grid25").components(), 25);
  EXPECT_DOUBLE_EQ(builtin_mixture("two-modes").weights[0], 0.3);
  EXPECT_THROW(builtin_mixture("three-modes"), std::invalid_argument);
  EXPECT_THROW(load_mixture("three-modes"), std::invalid_argument);
}

TEST(GaussianMixture, ReadsJson) {
  auto full = read_mixture_json(write_temp(
      "full.json", R"({"weights":[0.25,0.75],"means":[[0,1],[2,3]],"covariances":[[[1,0.5],[0.5,2]],[[1,0],[0,1]]]})"));
  EXPECT_EQ(full.dim(), 2);
  EXPECT_DOUBLE_EQ(full.covariances[0][0][1].item<double>(), 0.5);
  auto iso = load_mixture(write_temp("iso.json", R"({"weights":[1],"means":[[1,2,3]],"stds":[0.5]})"));
  EXPECT_EQ(iso.dim(), 3);
  EXPECT_DOUBLE_EQ(iso.covariances[0][2][2].item<double>(), 0.25);
}

TEST(GaussianMixture, JsonErrorsNameTheProblem) {
  auto expect_error = [](const std::string& text, const std::string& fragment) {
    const auto path = write_temp("bad.json", text);
    try {
      read_mixture_json(path);
      ADD_FAILURE() << "no error for " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"weights":[0.5,0.6],"means":[[0],[1]],"stds":[1,1]})", "sum to");
  expect_error(R"({"weights":[1.5,-0.5],"means":[[0],[1]],"stds":[1,1]})", "positive");
  expect_error(R"({"weights":[1],"means":[[0,0]],"covariances":[[[1,2],[2,1]]]})", "positive definite");
  expect_error(R"({"weights":[1],"means":[[0,0]],"covariances":[[[1,0.1],[0,1]]]})", "symmetric");
  expect_error(R"({"weights":[0.5,0.5],"means":[[0,0],[1]],"stds":[1,1]})", "same");
  expect_error(R"({"weights":[0.5,0.5],"means":[[0],[1]],"stds":[1]})", "stds");
  expect_error(R"({"weights":[1],"means":[[0]]})", "covariances");
  expect_error(R"({"weights":"heavy","means":[[0]],"stds":[1]})", "type");
  expect_error("{not json", "JSON");
  EXPECT_THROW(read_mixture_json("/nonexistent/mixture.json"), std::invalid_argument);
}
