// `ddpm schedule`: prints a variance schedule and its derived tables.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/core/schedule.h"

namespace ddpm::cli {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

void run(const ScheduleConfig& config, bool json) {
  const Schedule s = make_schedule(config);
  const int64_t T = s.T;
  auto at = [](const torch::Tensor& table, int64_t i) { return table[i].item<double>(); };
  if (json) {
    nlohmann::json out = {
        {"schedule", s.kind},
        {"timesteps", T},
        {"beta_first", at(s.betas, 0)},
        {"beta_last", at(s.betas, T - 1)},
        {"alpha_bar_last", at(s.alphas_cumprod, T - 1)},
        {"sqrt_alpha_bar_last", at(s.sqrt_alphas_cumprod, T - 1)},
        {"betas", to_vector(s.betas)},
        {"alphas_cumprod", to_vector(s.alphas_cumprod)},
        {"posterior_variance", to_vector(s.posterior_variance)},
        {"snr", to_vector(s.snr)},
    };
    std::cout << out.dump() << "\n";
    return;
  }
  fmt::print("schedule {}  T = {}\n", s.kind, T);
  fmt::print("{:>6} {:>12} {:>12} {:>12} {:>12}\n", "t", "beta", "alpha_bar", "post.var", "SNR");
  for (int64_t t : {int64_t{1}, int64_t{2}, T / 10, T / 4, T / 2, 3 * T / 4, T - 1, T}) {
    if (t < 1 || t > T) continue;
    const int64_t i = t - 1;
    fmt::print("{:>6} {:>12.5e} {:>12.5e} {:>12.5e} {:>12.5e}\n", t, at(s.betas, i), at(s.alphas_cumprod, i),
               at(s.posterior_variance, i), at(s.snr, i));
  }
  fmt::print("x_T keeps sqrt(alpha_bar_T) = {:.3e} of x_0; q(x_T|x_0) is N(0, I) up to that.\n",
             at(s.sqrt_alphas_cumprod, T - 1));
}

}  // namespace

Subcommand add_schedule(CLI::App& parent) {
  auto* app = parent.add_subcommand("schedule", "print a variance schedule (betas, alpha_bar, posterior variance)");
  auto config = std::make_shared<ScheduleConfig>();
  auto json = std::make_shared<bool>(false);
  const auto flags = add_schedule_flags(app, *config);
  app->add_option("--beta-start", config->beta_start, "beta_1 (linear, quadratic, sigmoid)")->capture_default_str()
      ->check(between(0.0, 1.0, false));
  app->add_option("--beta-end", config->beta_end, "beta_T (linear, quadratic, sigmoid)")->capture_default_str()
      ->check(between(0.0, 1.0, false));
  app->add_flag("--json", *json, "print one JSON object with the full tables");
  return {app, [config, json, flags] {
            finish_schedule_flags(flags, *config);
            run(*config, *json);
          }};
}

}  // namespace ddpm::cli
