// JSON round trip of the run configuration, and the short-run scaling of Ho et al.'s defaults.
#include "training/train_config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "io/json_integer.h"

namespace ddpm {

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"data", c.data},
       {"random_flip", c.random_flip},
       {"image_size", c.image_size},
       {"preset", c.preset},
       {"init", c.init},
       {"init_steps", c.init_steps},
       {"model", c.model},
       {"schedule", c.schedule},
       {"steps", c.steps},
       {"batch", c.batch},
       {"seed", c.seed},
       {"lr", c.lr},
       {"warmup", c.warmup},
       {"ema_decay", c.ema_decay},
       {"grad_clip", c.grad_clip},
       {"sample_every", c.sample_every},
       {"sample_steps", c.sample_steps},
       {"checkpoint_every", c.checkpoint_every},
       {"keep", c.keep},
       {"log_every", c.log_every},
       {"max_bad_steps", c.max_bad_steps},
       {"device", c.device}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  j.at("data").get_to(c.data);
  j.at("random_flip").get_to(c.random_flip);
  c.image_size = json_integer<int64_t>(j.at("image_size"), "config: image_size");
  j.at("preset").get_to(c.preset);
  c.init = j.value("init", std::string());  // absent in runs made before --init existed
  // Absent in runs made before the lineage was kept: their model files count only their own steps.
  c.init_steps = j.contains("init_steps") ? json_integer<int64_t>(j["init_steps"], "config: init_steps") : 0;
  j.at("model").get_to(c.model);
  j.at("schedule").get_to(c.schedule);
  c.steps = json_integer<int64_t>(j.at("steps"), "config: steps");
  c.batch = json_integer<int64_t>(j.at("batch"), "config: batch");
  c.seed = json_integer<uint64_t>(j.at("seed"), "config: seed");
  j.at("lr").get_to(c.lr);
  c.warmup = json_integer<int64_t>(j.at("warmup"), "config: warmup");
  j.at("ema_decay").get_to(c.ema_decay);
  j.at("grad_clip").get_to(c.grad_clip);
  c.sample_every = json_integer<int64_t>(j.at("sample_every"), "config: sample_every");
  c.sample_steps = json_integer<int64_t>(j.at("sample_steps"), "config: sample_steps");
  c.checkpoint_every = json_integer<int64_t>(j.at("checkpoint_every"), "config: checkpoint_every");
  c.keep = json_integer<int64_t>(j.at("keep"), "config: keep");
  c.log_every = json_integer<int64_t>(j.at("log_every"), "config: log_every");
  c.max_bad_steps = json_integer<int64_t>(j.at("max_bad_steps"), "config: max_bad_steps");
  j.at("device").get_to(c.device);
}

TrainConfig check_train_config(TrainConfig c) {
  const auto positive = [](const char* field, double value) {
    if (!(std::isfinite(value) && value > 0.0))
      throw std::invalid_argument(fmt::format("{} must be a finite number > 0, got {}", field, value));
  };
  const auto at_least = [](const char* field, int64_t value, int64_t min) {
    if (value < min) throw std::invalid_argument(fmt::format("{} must be at least {}, got {}", field, min, value));
  };
  positive("lr", c.lr);
  positive("grad_clip", c.grad_clip);
  if (!(c.ema_decay >= 0.0 && c.ema_decay < 1.0))
    throw std::invalid_argument(fmt::format("ema_decay must be in [0, 1), got {}", c.ema_decay));
  at_least("steps", c.steps, 1);
  at_least("batch", c.batch, 1);
  at_least("warmup", c.warmup, 0);
  at_least("image_size", c.image_size, 0);
  at_least("sample_every", c.sample_every, 0);
  at_least("sample_steps", c.sample_steps, 1);
  at_least("checkpoint_every", c.checkpoint_every, 0);
  at_least("keep", c.keep, 1);
  at_least("log_every", c.log_every, 1);
  at_least("max_bad_steps", c.max_bad_steps, 1);
  return c;
}

std::string scale_for_short_run(TrainConfig& c, bool warmup_given, bool ema_given) {
  std::string note;
  const int64_t max_warmup = std::max<int64_t>(1, c.steps / 20);
  if (!warmup_given && c.warmup > max_warmup) {
    note += fmt::format("warmup {} -> {} steps (5% of the run); ", c.warmup, max_warmup);
    c.warmup = max_warmup;
  }
  const double horizon = 1.0 / (1.0 - c.ema_decay);
  const double max_horizon = std::max(10.0, c.steps / 10.0);
  // With a tolerance: 1/(1 - 0.9999) is 10000.0000000011 in doubles, which is not a longer horizon.
  if (!ema_given && horizon > max_horizon * (1 + 1e-9)) {
    const double decay = 1.0 - 1.0 / max_horizon;
    note += fmt::format("EMA decay {} -> {:.6f} (horizon 10% of the run); ", c.ema_decay, decay);
    c.ema_decay = decay;
  }
  return note;
}

}  // namespace ddpm
