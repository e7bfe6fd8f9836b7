// diffusers' own scheduler tests (tests/schedulers/test_scheduler_ddpm.py and test_scheduler_ddim.py) publish
// golden values that any exact implementation reproduces: ddpm's samplers, on the schedules an imported
// scheduler config maps to, must give the same numbers. Fixtures as diffusers writes them: the sample
// arange(768)/768 reshaped to (3, 8, 8, 4) and permuted to (4, 3, 8, 8); the model x·t/(t + 1); linear β from
// 1e-4 to 0.02, T = 1000, clip_sample on; noise from torch.manual_seed(0).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ddpm/core/prediction.h"
#include "ddpm/interop/diffusers.h"
#include "ddpm/samplers/ancestral.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {
namespace {

torch::Tensor dummy_sample() {
  return (torch::arange(768, torch::kFloat32) / 768.0).reshape({3, 8, 8, 4}).permute({3, 0, 1, 2}).contiguous();
}

torch::Tensor dummy_model(const torch::Tensor& x, const torch::Tensor& t) {
  const auto tf = t.to(torch::kFloat32).view({-1, 1, 1, 1});
  return x * tf / (tf + 1);
}

// The schedule a DDPMScheduler/DDIMScheduler config with these keys maps to.
DiffusersScheduler scheduler(nlohmann::json keys, const char* name = "DDPMScheduler") {
  keys["_class_name"] = name;
  keys["num_train_timesteps"] = 1000;
  if (!keys.contains("beta_start")) keys["beta_start"] = 0.0001;
  keys["beta_end"] = 0.02;
  keys["beta_schedule"] = "linear";
  return scheduler_from_diffusers(keys, "scheduler_config.json");
}

TEST(DiffusersGoldens, DDPMFixedSmallVariance) {
  const auto s = scheduler({{"variance_type", "fixed_small"}});
  EXPECT_EQ(*s.sampling.variance, VarianceKind::Posterior);
  const auto v = make_schedule(s.schedule).posterior_variance;
  EXPECT_NEAR(v[0].item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(v[487].item<double>(), 0.00979, 1e-5);
  EXPECT_NEAR(v[999].item<double>(), 0.02, 1e-5);
}

TEST(DiffusersGoldens, DDIMVariance) {
  const auto abar = make_schedule(scheduler({}, "DDIMScheduler").schedule).alphas_cumprod;
  const auto var = [&](int t, int prev) {
    return std::pow(ddim_sigma(abar[t].item<double>(), abar[prev].item<double>(), 1.0), 2);
  };
  EXPECT_NEAR(var(420, 400), 0.14771, 1e-5);
  EXPECT_NEAR(var(980, 960), 0.32460, 1e-5);
  EXPECT_NEAR(var(487, 486), 0.00979, 1e-5);
  EXPECT_NEAR(var(999, 998), 0.02, 1e-5);
}

// test_full_loop_no_noise: every step t = 999..0, the ancestral noise from torch.manual_seed(0).
TEST(DiffusersGoldens, DDPMFullLoop) {
  const auto s = scheduler({{"variance_type", "fixed_small"}, {"clip_sample", true}});
  auto gen = at::detail::createCPUGenerator(0);
  AncestralOptions options;
  options.step.variance = *s.sampling.variance;
  options.step.clip_x0 = *s.sampling.clip_x0;
  const auto x = ancestral_sample(make_schedule(s.schedule), dummy_model, dummy_sample(), gen, options);
  EXPECT_NEAR(x.abs().sum().item<double>(), 258.9606, 1e-2);
  EXPECT_NEAR(x.abs().mean().item<double>(), 0.3372, 1e-3);
}

// DDIM, 10 leading steps, η = 0, the network's ε̂ kept after clipping (DDIMScheduler.step's default).
torch::Tensor ddim_loop(const DiffusersScheduler& s, const NoisePredictor& model) {
  auto gen = at::detail::createCPUGenerator(0);
  DDIMOptions options;
  options.clip_x0 = *s.sampling.clip_x0;
  options.clipped_eps = *s.sampling.ddim_clipped_eps;
  return ddim_sample(make_schedule(s.schedule), spaced_timesteps(1000, 10, *s.sampling.spacing), model, dummy_sample(),
                     gen, options);
}

TEST(DiffusersGoldens, DDIMFullLoop) {
  const auto x = ddim_loop(scheduler({}, "DDIMScheduler"), dummy_model);
  EXPECT_NEAR(x.abs().sum().item<double>(), 172.0067, 1e-2);
  EXPECT_NEAR(x.abs().mean().item<double>(), 0.223967, 1e-3);
}

TEST(DiffusersGoldens, DDIMFullLoopWithVPrediction) {
  const auto s = scheduler({{"prediction_type", "v_prediction"}}, "DDIMScheduler");
  ASSERT_EQ(s.prediction, Prediction::v);
  const auto tables = make_schedule(s.schedule);
  const auto x = ddim_loop(s, [&](const torch::Tensor& x_t, const torch::Tensor& t) {
    return eps_from_prediction(Prediction::v, tables, x_t, t, dummy_model(x_t, t));
  });
  EXPECT_NEAR(x.abs().sum().item<double>(), 52.5302, 1e-2);
  EXPECT_NEAR(x.abs().mean().item<double>(), 0.0684, 1e-3);
}

// test_full_loop_with_set_alpha_to_one: the last step goes to ᾱ = 1.
TEST(DiffusersGoldens, DDIMFullLoopEndingAtAlphaOne) {
  const auto x = ddim_loop(scheduler({{"beta_start", 0.01}, {"set_alpha_to_one", true}}, "DDIMScheduler"), dummy_model);
  EXPECT_NEAR(x.abs().sum().item<double>(), 149.8295, 1e-2);
  EXPECT_NEAR(x.abs().mean().item<double>(), 0.1951, 1e-3);
}

// The spacings diffusers' set_timesteps gives (test_timestep_spacing and the scheduler docs' examples).
TEST(DiffusersGoldens, TimestepSpacings) {
  const auto desc = [](std::vector<int64_t> v) { return std::vector<int64_t>(v.rbegin(), v.rend()); };
  EXPECT_EQ(desc(spaced_timesteps(1000, 10, "leading")),
            (std::vector<int64_t>{900, 800, 700, 600, 500, 400, 300, 200, 100, 0}));
  EXPECT_EQ(desc(spaced_timesteps(1000, 10, "trailing")),
            (std::vector<int64_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
  EXPECT_EQ(desc(spaced_timesteps(1000, 10, "linspace")),
            (std::vector<int64_t>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));
  // Where T/K is not whole: leading strides by ⌊T/K⌋, and rounding takes halves to the even neighbour.
  EXPECT_EQ(desc(spaced_timesteps(1000, 7, "leading")), (std::vector<int64_t>{852, 710, 568, 426, 284, 142, 0}));
  EXPECT_EQ(desc(spaced_timesteps(1000, 7, "linspace")), (std::vector<int64_t>{999, 832, 666, 500, 333, 166, 0}));
  EXPECT_EQ(desc(spaced_timesteps(1000, 16, "trailing"))[3], 811);  // round(812.5) = 812, minus 1
}

}  // namespace
}  // namespace ddpm
