// Drives ddpm's samplers with the caller's own noise predictor instead of a network: the exact ε of
// Gaussian data. For x_0 ~ N(μ, s²) the forward process gives x_t ~ N(√ᾱ_t μ, ᾱ_t s² + 1 − ᾱ_t), and the
// minimum-error prediction of the noise is E[ε | x_t] = √(1 − ᾱ_t) (x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t).
// Any callable ε(x_t, t) is a ddpm::NoisePredictor; every sampler takes one.
#include <ddpm/core/random.h>
#include <ddpm/core/schedule.h>
#include <ddpm/samplers/sampler.h>

#include <cmath>
#include <cstdio>
#include <exception>

int main() try {
  const double mu = 0.5, s = 0.2;
  const ddpm::Schedule schedule = ddpm::make_schedule(ddpm::ScheduleConfig{});

  const ddpm::NoisePredictor exact = [&](const torch::Tensor& x_t, const torch::Tensor& t) {
    // t: the 0-based steps of the batch's rows; the schedule's tables are indexed by them.
    const torch::Tensor alpha_bar = ddpm::extract(schedule.alphas_cumprod, t, x_t);
    return (1 - alpha_bar).sqrt() * (x_t - alpha_bar.sqrt() * mu) / (alpha_bar * s * s + 1 - alpha_bar);
  };

  at::Generator gen = ddpm::make_generator(/*seed=*/0);
  int failures = 0;
  for (const char* kind : {"ancestral", "ddim"}) {
    for (const int64_t steps : {1000, 50}) {
      ddpm::SamplerSpec spec;
      spec.kind = kind;
      spec.steps = steps;  // 50: respaced, 50 of the 1,000 steps
      const torch::Tensor x = ddpm::run_sampler(schedule, exact, torch::randn({20000, 1}, gen), gen, spec);
      const double mean = x.mean().item<double>(), stddev = x.std().item<double>();
      std::printf("%-9s %4lld steps: mean %.4f (data %.4f), std %.4f (data %.4f)\n", kind,
                  static_cast<long long>(steps), mean, mu, stddev, s);
      // With all T steps the samples must match the data: for 20,000 samples the standard errors of the mean
      // and the std are 0.0014 and 0.0010. With 50 steps the exact ε still loses spread: each coarse step
      // shrinks it (discretization error, the third source of error), which the output shows.
      if (steps == 1000 && (std::abs(mean - mu) > 0.006 || std::abs(stddev - s) > 0.006)) ++failures;
    }
  }
  return failures == 0 ? 0 : 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "own_predictor: %s\n", e.what());
  return 1;
}
