// The schedules by name: one row per kind holds how its β_1..β_T are made and its help line, so adding a
// schedule is its betas function (in its own file) and one row here.
#include <stdexcept>

#include "ddpm/core/schedule.h"
#include "ddpm/io/text.h"

namespace ddpm {
namespace {

struct ScheduleKind {
  const char* name;
  torch::Tensor (*betas)(const ScheduleConfig&);
  const char* help;
};

torch::Tensor custom_betas(const ScheduleConfig& c) {
  if (c.betas.empty() && c.betas_file.empty()) throw std::invalid_argument("schedule 'custom' needs a betas file");
  auto betas = c.betas.empty() ? read_betas_file(c.betas_file) : torch::tensor(c.betas, torch::kFloat64);
  // A count that differs from the asked-for T is refused, not silently taken: T decides the sampling cost
  // and every table's length.
  if (c.timesteps != 0 && c.timesteps != betas.size(0))
    throw std::invalid_argument(fmt::format("{} holds {} betas, but timesteps is {} (0 takes the file's count)",
                                            c.betas.empty() ? fmt::format("betas file '{}'", c.betas_file)
                                                            : std::string("the custom schedule"),
                                            betas.size(0), c.timesteps));
  return betas;
}

const ScheduleKind kScheduleKinds[] = {
    {"linear", [](const ScheduleConfig& c) { return linear_betas(c.timesteps, c.beta_start, c.beta_end); },
     "linear: beta evenly spaced from beta_start to beta_end (Ho et al.; the default)"},
    {"cosine", [](const ScheduleConfig& c) { return cosine_betas(c.timesteps, c.cosine_s, c.max_beta); },
     "cosine: alpha_bar from Nichol & Dhariwal's cosine (their eq. 17), beta clipped at max_beta"},
    {"quadratic", [](const ScheduleConfig& c) { return quadratic_betas(c.timesteps, c.beta_start, c.beta_end); },
     "quadratic: sqrt(beta) evenly spaced from beta_start to beta_end"},
    {"sigmoid", [](const ScheduleConfig& c) { return sigmoid_betas(c.timesteps, c.beta_start, c.beta_end); },
     "sigmoid: a sigmoid over [-6, 6] rescaled to [beta_start, beta_end]"},
    {"custom", custom_betas, "custom: beta_1..beta_T read from a text file"},
};

}  // namespace

std::vector<std::string> schedule_kinds() { return column(kScheduleKinds, &ScheduleKind::name); }

std::vector<std::string> schedule_help() { return column(kScheduleKinds, &ScheduleKind::help); }

Schedule make_schedule(const ScheduleConfig& c) {
  if (c.timesteps > kMaxTimesteps)
    throw std::invalid_argument(fmt::format("timesteps must be at most {}, got {}", kMaxTimesteps, c.timesteps));
  if (!std::isfinite(c.cosine_s) || c.cosine_s < 0.0)
    throw std::invalid_argument(fmt::format("cosine_s must be a finite number >= 0, got {}", c.cosine_s));
  for (const auto& kind : kScheduleKinds)
    if (c.kind == kind.name) return Schedule::from_betas(kind.betas(c), c.kind);
  throw std::invalid_argument(fmt::format("unknown schedule '{}' (choose {})", c.kind, one_of(schedule_kinds())));
}

}  // namespace ddpm
