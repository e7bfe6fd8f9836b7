// Timestep spacings and the respaced schedule.
#include "ddpm/samplers/respacing.h"

#include <cmath>
#include <stdexcept>

namespace ddpm {

std::vector<std::string> timestep_spacings() { return {"leading", "trailing", "linspace"}; }

std::vector<int64_t> spaced_timesteps(int64_t T, int64_t K, const std::string& spacing) {
  if (K < 1 || K > T)
    throw std::invalid_argument(fmt::format("sampling steps must be in [1, T = {}], got {}", T, K));
  // diffusers' set_timesteps, operation for operation (numpy rounds halves to even, as std::nearbyint does in
  // the default rounding mode), so that a spacing name means the same steps in both.
  std::vector<int64_t> steps(K);
  const double stride = static_cast<double>(T) / static_cast<double>(K);
  if (spacing == "leading") {
    for (int64_t j = 0; j < K; ++j) steps[j] = j * (T / K);
  } else if (spacing == "trailing") {
    for (int64_t j = 0; j < K; ++j) steps[K - 1 - j] = static_cast<int64_t>(std::nearbyint(T - j * stride)) - 1;
  } else if (spacing == "linspace") {
    const double gap = K > 1 ? static_cast<double>(T - 1) / static_cast<double>(K - 1) : 0.0;
    for (int64_t j = 0; j < K; ++j) steps[j] = static_cast<int64_t>(std::nearbyint(j * gap));
    steps[K - 1] = T - 1;
  } else {
    throw std::invalid_argument(
        fmt::format("unknown timestep spacing '{}' (choose leading, trailing or linspace)", spacing));
  }
  return steps;
}

void check_timesteps(const std::vector<int64_t>& timesteps, int64_t T, const std::string& who) {
  int64_t prev = -1;
  for (const int64_t t : timesteps) {
    if (t <= prev || t >= T)
      throw std::invalid_argument(
          fmt::format("{}: timesteps must increase strictly within [0, {}), got {} after {}", who, T, t, prev));
    prev = t;
  }
}

RespacedSchedule respace(const Schedule& schedule, const std::vector<int64_t>& timesteps) {
  const int64_t K = static_cast<int64_t>(timesteps.size());
  if (K < 1) throw std::invalid_argument("respace: the timestep subsequence is empty");
  check_timesteps(timesteps, schedule.T, "respace");
  auto abar = schedule.alphas_cumprod.accessor<double, 1>();
  auto beta = schedule.betas.accessor<double, 1>();
  std::vector<double> betas(K);
  int64_t prev = -1;  // the previous respaced step; -1 stands for ᾱ = 1 (no noise)
  for (int64_t k = 0; k < K; ++k) {
    const int64_t t = timesteps[k];
    // ᾱ_t / ᾱ_{t-1} is α_t exactly in exact arithmetic; take β_t itself so that K = T changes nothing.
    betas[k] = t == prev + 1 ? beta[t] : 1.0 - abar[t] / (prev < 0 ? 1.0 : abar[prev]);
    prev = t;
  }
  auto tensor = torch::tensor(betas, torch::TensorOptions().dtype(torch::kFloat64));
  return {Schedule::from_betas(tensor, schedule.kind + "-respaced"), timesteps};
}

}  // namespace ddpm
