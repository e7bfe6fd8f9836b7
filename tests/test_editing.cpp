// Inpainting (RePaint), image-to-image (SDEdit), DDIM inversion and interpolation against exact answers: with
// the Gaussian-mixture denoiser ε* the model is perfect, so what is left is the editing method's own error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/analytic/gaussian_noise_predictor.h"
#include "ddpm/core/random.h"
#include "ddpm/editing/img2img.h"
#include "ddpm/editing/inpaint.h"
#include "ddpm/editing/interpolation.h"
#include "ddpm/evaluation/mixture_metrics.h"
#include "ddpm/inference/edit.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/image_read.h"
#include "ddpm/models/model_config.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/respacing.h"

using namespace ddpm;

namespace {

// Two correlated modes (ρ = 0.5, std 0.6): seeing x₂ moves the odds between them and shifts each mode's x₁.
GaussianMixture correlated_modes() {
  GaussianMixture m;
  m.weights = {0.5, 0.5};
  m.means = torch::tensor({-1.5, -1.0, 1.5, 1.0}, torch::kFloat64).reshape({2, 2});
  m.covariances = torch::tensor({0.36, 0.18, 0.18, 0.36, 0.36, 0.18, 0.18, 0.36}, torch::kFloat64).reshape({2, 2, 2});
  validate_mixture(m);
  return m;
}

// Mean and variance of a 1-D mixture.
std::pair<double, double> mixture_moments(const GaussianMixture& m) {
  double mean = 0, second = 0;
  for (int64_t k = 0; k < m.components(); ++k) {
    const double mu = m.means[k][0].item<double>(), var = m.covariances[k][0][0].item<double>();
    mean += m.weights[k] * mu;
    second += m.weights[k] * (var + mu * mu);
  }
  return {mean, second - mean * mean};
}

}  // namespace

TEST(ConditionMixture, PartitionedGaussianFormulas) {
  const auto m = correlated_modes();
  const auto c = condition_mixture(m, torch::tensor({false, true}), torch::tensor({0.0, 0.4}, torch::kFloat64));
  // By hand: component k's x₂-marginal N(±1, 0.36) at 0.4; conditional mean μ₁ + (0.18/0.36)(0.4 − μ₂), variance
  // 0.36 − 0.18²/0.36 = 0.27.
  const double l0 = std::exp(-0.5 * 1.4 * 1.4 / 0.36), l1 = std::exp(-0.5 * 0.6 * 0.6 / 0.36);
  EXPECT_NEAR(c.weights[0], l0 / (l0 + l1), 1e-12);
  EXPECT_NEAR(c.weights[1], l1 / (l0 + l1), 1e-12);
  EXPECT_NEAR(c.means[0][0].item<double>(), -1.5 + 0.5 * 1.4, 1e-12);
  EXPECT_NEAR(c.means[1][0].item<double>(), 1.5 - 0.5 * 0.6, 1e-12);
  EXPECT_NEAR(c.covariances[0][0][0].item<double>(), 0.27, 1e-12);
  EXPECT_THROW(condition_mixture(m, torch::tensor({true, true}), torch::zeros({2}, torch::kFloat64)), std::invalid_argument);
  EXPECT_THROW(condition_mixture(m, torch::tensor({true}), torch::zeros({1}, torch::kFloat64)), std::invalid_argument);
}

TEST(RePaint, LevelScheduleGoesDownWithJumpsBackUp) {
  EXPECT_EQ(repaint_levels(4, 1, 1), (std::vector<int64_t>{3, 2, 1, 0, -1}));
  // K = 6, jumps of 2 at levels 0 and 2, each taken once (jump_n_sample 2).
  EXPECT_EQ(repaint_levels(6, 2, 2), (std::vector<int64_t>{5, 4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1}));
  for (const auto [K, j, r] : {std::tuple{250, 10, 10}, {100, 10, 5}, {37, 4, 3}}) {
    const auto levels = repaint_levels(K, j, r);
    EXPECT_EQ(levels.front(), K - 1);
    EXPECT_EQ(levels.back(), -1);
    for (std::size_t i = 1; i < levels.size(); ++i) EXPECT_EQ(std::abs(levels[i] - levels[i - 1]), 1);
    // Every stretch of j levels above each of the ⌈(K − j)/j⌉ jump points is run r − 1 more times.
    const int64_t jump_points = (K - j + j - 1) / j;
    EXPECT_EQ(repaint_evaluations(K, j, r), K + (r - 1) * j * jump_points) << K << " " << j << " " << r;
  }
  EXPECT_THROW(repaint_levels(10, 0, 2), std::invalid_argument);
  EXPECT_THROW(repaint_levels(10, 2, 0), std::invalid_argument);
}

// Inpainting x₁ given x₂ must draw from the exact conditional q(x₁ | x₂), a 1-D mixture (condition_mixture):
// mean 1.00, std 0.79, 90 % of the mass in the mode that x₂ favours. Without resampling (r = 1) the known
// coordinate barely steers the unknown one and the odds stay near the prior's 50/50 (measured: mean 0.30,
// std 1.27); resampling converges to the conditional as r grows (measured at K = 100, j = 10: mean 0.82,
// 0.90, 1.01 and std 0.97, 0.91, 0.84 for r = 10, 20, 50; here K = 50, j = 5, r = 40: 1.016 and 0.797).
TEST(RePaint, InpaintingDrawsTheExactConditional) {
  const auto mixture = correlated_modes();
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(mixture, schedule);
  const double x2 = 0.4;
  const auto exact = condition_mixture(mixture, torch::tensor({false, true}), torch::tensor({0.0, x2}, torch::kFloat64));
  const auto [mean, var] = mixture_moments(exact);
  const int64_t n = 4000;
  const auto known = torch::tensor({0.0, x2}, torch::kFloat64).repeat({n, 1});
  const auto keep = torch::tensor({0.0, 1.0}, torch::kFloat64);
  auto run = [&](int64_t r) {
    auto gen = make_generator(21);
    InpaintOptions options;
    options.sampler.steps = 50;
    options.jump_length = 5;
    options.jump_n_sample = r;
    return inpaint(schedule, model, known, keep, torch::randn({n, 2}, gen, torch::kFloat64), gen, options);
  };
  const auto repaint = run(40);
  EXPECT_TRUE(torch::equal(repaint.select(1, 1), known.select(1, 1)));  // the known part comes back exactly
  const auto x1 = repaint.select(1, 0);
  const double sd = std::sqrt(var);
  // 4 standard errors of the mean and the std, plus 0.02 for the method's own bias at r = 40 (a margin set from
  // the measurements above, not derived: RePaint has no closed-form bias).
  EXPECT_NEAR(x1.mean().item<double>(), mean, 4 * sd / std::sqrt(n) + 0.02);
  EXPECT_NEAR(x1.std().item<double>(), sd, 4 * sd / std::sqrt(2.0 * n) + 0.02);
  const double no_resampling = run(1).select(1, 0).mean().item<double>();
  EXPECT_GT(std::abs(no_resampling - mean), 0.2) << "without jumps the conditional is not reached";
}

TEST(RePaint, RefusesWhatItCannotRun) {
  const auto schedule = make_schedule({});
  const auto model = gaussian_noise_predictor(schedule, 0.0, 1.0);
  auto gen = make_generator(1);
  const auto x = torch::zeros({3, 2});
  InpaintOptions options;
  options.sampler.steps = 10;
  EXPECT_THROW(inpaint(schedule, model, x, torch::full({2}, 0.5), x, gen, options), std::invalid_argument);
  EXPECT_THROW(inpaint(schedule, model, x, torch::ones({3}), x, gen, options), std::invalid_argument);
  options.sampler.kind = "ddim";
  EXPECT_THROW(inpaint(schedule, model, x, torch::ones({2}), x, gen, options), std::invalid_argument);
}

TEST(SDEdit, TimestepsAreTheLeastNoisyShareOfTheSampler) {
  SamplerSpec spec;
  spec.steps = 10;
  EXPECT_EQ(img2img_timesteps(spec, 1000, 1.0), spaced_timesteps(1000, 10, "leading"));
  EXPECT_EQ(img2img_timesteps(spec, 1000, 0.3), (std::vector<int64_t>{0, 100, 200}));
  EXPECT_EQ(img2img_timesteps(spec, 1000, 1e-6), (std::vector<int64_t>{0}));
  EXPECT_THROW(img2img_timesteps(spec, 1000, 0.0), std::invalid_argument);
  EXPECT_THROW(img2img_timesteps(spec, 1000, 1.5), std::invalid_argument);
  EXPECT_THROW(img2img_timesteps(spec, 1000, NAN), std::invalid_argument);
}

// Strength 1 forgets the input: every input at mode 0 still comes back in the mixture's 0.3/0.7 proportions.
// A small strength returns the input, moved by no more than the noise it was given.
TEST(SDEdit, StrengthOneIsTheDataAndSmallStrengthTheInput) {
  const auto mixture = builtin_mixture("two-modes");
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(mixture, schedule);
  const int64_t n = 4000;
  const auto input = torch::tensor({-2.0, 0.0}, torch::kFloat64).repeat({n, 1});
  SamplerSpec spec;
  spec.steps = 100;
  auto gen = make_generator(22);
  const auto forgot = img2img(schedule, model, input, 1.0, gen, spec);
  const auto p = mode_proportions(mixture, forgot);
  for (int k = 0; k < 2; ++k) {
    const double w = mixture.weights[k];
    EXPECT_NEAR(p[k], w, 4 * std::sqrt(w * (1 - w) / n)) << "mode " << k;  // 4 binomial standard errors
  }
  spec.steps = 0;  // all 1000 steps: strength 0.005 starts at t₀ = 5 (index 4)
  const auto kept = img2img(schedule, model, input, 0.005, gen, spec);
  // The input is noised by σ = √(1 − ᾱ_5) and the result is a draw from q(x_0 | x_5), whose spread is about σ
  // too: they differ by about √2 σ.
  const double noise_sd = std::sqrt(1 - schedule.alphas_cumprod[4].item<double>());
  const double moved = (kept - input).pow(2).mean().sqrt().item<double>();
  EXPECT_LT(moved, 1.5 * noise_sd);
  EXPECT_GT(moved, 0.5 * noise_sd);
  // Half way, the input's mode keeps more than its share but not all of it.
  const double kept_half = mode_proportions(mixture, img2img(schedule, model, input, 0.5, gen, spec))[0];
  EXPECT_GT(kept_half, 0.3 + 0.1);
}

// DDIM inversion then DDIM generation on the same steps returns the input up to the discretisation error,
// which falls as the steps grow.
TEST(DDIMInversion, ReconstructsTheInputBetterWithMoreSteps) {
  const auto mixture = builtin_mixture("two-modes");
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(mixture, schedule);
  auto gen = make_generator(23);
  const auto x0 = sample_points(mixture, 500, gen, torch::kFloat64);
  double previous = INFINITY;
  for (const int64_t K : {10, 50, 250}) {
    const auto tau = spaced_timesteps(1000, K, "linspace");
    const auto latent = ddim_invert(schedule, tau, model, x0);
    const auto back = ddim_sample(schedule, tau, model, latent, gen);
    const double rmse = (back - x0).pow(2).mean().sqrt().item<double>();
    EXPECT_LT(rmse, previous) << K << " steps";
    previous = rmse;
  }
  EXPECT_LT(previous, 0.05);
}

// Gaussian data N(m, s²): the probability-flow ODE maps it onto N(0, 1) at t = T (DDIM.EtaZeroLandsOn...
// shows the map), so the inverted latents are standard normal, within sampling error plus 0.02 for ᾱ_T > 0.
TEST(DDIMInversion, GaussianDataInvertsToStandardNoise) {
  const auto schedule = make_schedule({});
  const double m = 1.0, s = 0.5;
  auto gen = make_generator(24);
  const int64_t n = 4000;
  const auto x0 = m + s * torch::randn({n, 1}, gen, torch::kFloat64);
  const auto latent = ddim_invert(schedule, spaced_timesteps(1000, 200, "linspace"), gaussian_noise_predictor(schedule, m, s), x0);
  EXPECT_NEAR(latent.mean().item<double>(), 0.0, 4 / std::sqrt(n) + 0.02);
  EXPECT_NEAR(latent.std().item<double>(), 1.0, 4 / std::sqrt(2.0 * n) + 0.02);
}

TEST(Interpolation, SlerpKeepsTheEndsAndTheNorm) {
  const auto a = torch::tensor({1.0, 0.0}, torch::kFloat64).reshape({1, 2});
  const auto b = torch::tensor({0.0, 1.0}, torch::kFloat64).reshape({1, 2});
  const auto frames = slerp(a, b, interpolation_weights(5));
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{5, 2}));
  EXPECT_TRUE(torch::allclose(frames[0], a[0]));
  EXPECT_TRUE(torch::allclose(frames[4], b[0]));
  EXPECT_TRUE(torch::allclose(frames.norm(2, 1), torch::ones({5}, torch::kFloat64)));  // on the arc
  EXPECT_NEAR(frames[2][0].item<double>(), std::sqrt(0.5), 1e-12);
  EXPECT_TRUE(torch::allclose(slerp(a, 2 * a, torch::tensor({0.5}, torch::kFloat64))[0], 1.5 * a[0]));  // parallel
  EXPECT_THROW(interpolation_weights(1), std::invalid_argument);
}

TEST(Interpolation, EndFramesReconstructTheInputs) {
  const auto mixture = builtin_mixture("two-modes");
  const auto schedule = make_schedule({});
  const auto model = mixture_noise_predictor(mixture, schedule);
  auto gen = make_generator(25);
  const auto a = torch::tensor({{-2.0, 0.3}}, torch::kFloat64), b = torch::tensor({{2.1, -0.2}}, torch::kFloat64);
  const auto frames = interpolate_inputs(schedule, model, model, a, b, 7, spaced_timesteps(1000, 250, "linspace"), false, gen);
  ASSERT_EQ(frames.size(0), 7);
  EXPECT_LT((frames[0] - a[0]).norm().item<double>(), 0.05);
  EXPECT_LT((frames[6] - b[0]).norm().item<double>(), 0.05);
  // Each frame is a sample of the data (near a mode), not a blend of a and b stranded between them.
  EXPECT_LT(between_modes_fraction(mixture, frames), 0.5);
}

// What `ddpm sample --n 1` writes (one image, enlarged ×2, no padding) reads back as exactly the image it drew.
TEST(EditInputs, AnImageDdpmWroteReadsBackExactly) {
  const auto config = model_preset("fashion");
  auto gen = make_generator(26);
  // An image on the 8-bit grid, as any image file holds.
  const auto image = (torch::randint(0, 256, {1, 1, 28, 28}, gen).to(torch::kFloat32) / 127.5 - 1.0);
  const std::string path = testing::TempDir() + "/one.png";
  save_image_grid(path, image, 1, /*padding=*/0, /*scale=*/0);
  EXPECT_EQ(read_image_info(path).width, 56);
  EXPECT_TRUE(torch::allclose(read_edit_input(config, path), image, 0, 1e-6));
  EXPECT_THROW(read_edit_input(model_preset("mlp-2d"), path), std::exception);  // a point model reads CSV
}

// Inpainting a trained model's image keeps the known pixels exactly (the rest is drawn).
TEST(EditInputs, InpaintingAnImageKeepsTheKnownPixels) {
  auto model = load_trained_model("fashion");
  auto gen = make_generator(27);
  const auto input = torch::rand({1, 1, 28, 28}, gen) * 2 - 1;
  const auto keep = rectangle_keep_mask(model.config, 0, 0, 28, 12).logical_not().to(torch::kFloat32);  // fill the bottom
  EXPECT_EQ(keep.sum().item<double>(), 28 * 12);
  EditRequest request;
  request.sampler.steps = 3;
  const auto filled = edit_inpaint(model, input.repeat({2, 1, 1, 1}), keep, 1, 1, request);
  const auto kept = keep.to(torch::kBool).expand_as(filled);
  EXPECT_TRUE(torch::equal(filled.masked_select(kept), input.repeat({2, 1, 1, 1}).masked_select(kept)));
  EXPECT_FALSE(torch::equal(filled, input.repeat({2, 1, 1, 1})));
  EXPECT_THROW(rectangle_keep_mask(model.config, 30, 0, 4, 4), std::invalid_argument);
}
