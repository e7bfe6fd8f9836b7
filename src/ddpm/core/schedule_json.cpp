// ScheduleConfig ⇄ JSON: stored in config.json, in every checkpoint and in every model file, so that
// training and sampling rebuild the same β_1..β_T.
#include <nlohmann/json.hpp>

#include "ddpm/core/schedule.h"
#include "ddpm/io/json_integer.h"

namespace ddpm {

void to_json(nlohmann::json& j, const ScheduleConfig& c) {
  j = {{"kind", c.kind},         {"timesteps", c.timesteps}, {"beta_start", c.beta_start},
       {"beta_end", c.beta_end}, {"cosine_s", c.cosine_s},   {"max_beta", c.max_beta},
       {"betas_file", c.betas_file}};
  if (!c.betas.empty()) j["betas"] = c.betas;
}

void from_json(const nlohmann::json& j, ScheduleConfig& c) {
  j.at("kind").get_to(c.kind);
  c.timesteps = json_integer<int64_t>(j.at("timesteps"), "schedule: timesteps");
  j.at("beta_start").get_to(c.beta_start);
  j.at("beta_end").get_to(c.beta_end);
  c.cosine_s = j.value("cosine_s", c.cosine_s);
  c.max_beta = j.value("max_beta", c.max_beta);
  c.betas_file = j.value("betas_file", c.betas_file);
  c.betas = j.value("betas", c.betas);
}

}  // namespace ddpm
