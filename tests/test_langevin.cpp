// Annealed Langevin dynamics: its cost as announced, the final denoising step, and the step size set from
// a signal-to-noise ratio, each against its closed form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/random.h"
#include "ddpm/core/reverse_process.h"
#include "ddpm/samplers/langevin.h"
#include "ddpm/samplers/sampler.h"

using namespace ddpm;

namespace {

Schedule linear_schedule(int64_t T) {
  ScheduleConfig c;
  c.timesteps = T;
  return make_schedule(c);
}

// A stand-in ε-predictor whose output depends on x and t, counting its calls.
struct CountingPredictor {
  int64_t* calls;
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& t) const {
    ++*calls;
    return 0.3 * x + 0.001 * t.to(x.dtype()).view({-1, 1});
  }
};

}  // namespace

// The evaluations announced before sampling (sampler_evaluations) are the calls made and the steps reported.
TEST(Langevin, CostIsLevelsTimesStepsPlusTheDenoisingStep) {
  const auto schedule = linear_schedule(40);
  for (const bool denoise : {true, false}) {
    SamplerSpec spec;
    spec.kind = "langevin";
    spec.steps = 8;
    spec.langevin_steps_per_level = 3;
    spec.langevin_denoise = denoise;
    int64_t calls = 0, reported = 0, total = 0;
    auto gen = make_generator(1);
    run_sampler(schedule, CountingPredictor{&calls}, torch::randn({5, 2}, gen), gen, spec,
                [&](int64_t step, int64_t of, const torch::Tensor&, const torch::Tensor&) {
                  reported = step;
                  total = of;
                });
    EXPECT_EQ(sampler_evaluations(spec, schedule.T), 8 * 3 + (denoise ? 1 : 0));
    EXPECT_EQ(calls, sampler_evaluations(spec, schedule.T));
    EXPECT_EQ(reported, calls);
    EXPECT_EQ(total, calls);
  }
}

// The final step draws no noise: from the same seed, the denoised result is x̂_0 (Ho et al. eq. 15) of the
// chain's last iterate at the least noisy level, clipped for images.
TEST(Langevin, FinalDenoisingIsTheX0EstimateOfTheLastIterate) {
  const auto schedule = linear_schedule(30);
  int64_t calls = 0;
  const CountingPredictor model{&calls};
  LangevinOptions options;
  options.levels = {2, 9, 20};
  options.steps_per_level = 2;
  options.final_denoise = false;
  auto gen_a = make_generator(5);
  const auto x_T = 3.0 * torch::randn({6, 2}, gen_a, torch::kFloat64);
  const auto last = langevin_sample(schedule, model, x_T, gen_a, options);
  options.final_denoise = true;
  auto gen_b = make_generator(5);
  torch::randn({6, 2}, gen_b, torch::kFloat64);
  const auto denoised = langevin_sample(schedule, model, x_T, gen_b, options);
  const auto t = torch::full({6}, 2, torch::kLong);
  EXPECT_TRUE(torch::equal(denoised, predict_x0_from_eps(schedule, last, t, model(last, t))));
  options.clip_x0 = true;
  auto gen_c = make_generator(5);
  torch::randn({6, 2}, gen_c, torch::kFloat64);
  const auto clipped = langevin_sample(schedule, model, x_T, gen_c, options);
  EXPECT_TRUE(torch::equal(clipped, denoised.clamp(-1.0, 1.0)));
  EXPECT_GT(denoised.abs().max().item<double>(), 1.0);  // so the clip had something to do
}

// With an SNR r, each step is x + (α/2) s + √α z with α = 4 r² ‖z‖² / ‖s‖² per sample, so that the drift
// is r times the noise in norm (Song et al. 2021, Algorithm 5).
TEST(Langevin, SnrSetsTheStepFromTheRatioOfDriftToNoise) {
  const auto schedule = linear_schedule(20);
  int64_t calls = 0;
  const CountingPredictor model{&calls};
  LangevinOptions options;
  options.levels = {7};
  options.steps_per_level = 1;
  options.snr = 0.16;
  options.final_denoise = false;
  auto gen = make_generator(9);
  const auto x = torch::randn({4, 3}, gen, torch::kFloat64);
  auto gen_copy = make_generator(9);
  torch::randn({4, 3}, gen_copy, torch::kFloat64);
  const auto next = langevin_sample(schedule, model, x, gen, options);

  const auto z = torch::randn({4, 3}, gen_copy, torch::kFloat64);
  const auto t = torch::full({4}, 7, torch::kLong);
  const double sigma = std::sqrt(1.0 - schedule.alphas_cumprod[7].item<double>());
  const auto s = -model(x, t) / sigma;
  const auto alpha = 4.0 * 0.16 * 0.16 * z.pow(2).sum(1, true) / s.pow(2).sum(1, true);
  EXPECT_TRUE(torch::allclose(next, x + 0.5 * alpha * s + alpha.sqrt() * z, 1e-12, 1e-12));
  const auto drift = (0.5 * alpha * s).norm(2, 1), noise = (alpha.sqrt() * z).norm(2, 1);
  EXPECT_TRUE(torch::allclose(drift / noise, torch::full({4}, 0.16, torch::kFloat64), 1e-12, 0));
}
