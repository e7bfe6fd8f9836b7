// JSON round trip of the run configuration.
#include "ddpm/training/train_config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ddpm/io/json_integer.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/training/ema.h"

namespace ddpm {

namespace {

// Only the settings that were given, so that the record says what the user asked for.
nlohmann::json unet_shape_json(const UNetShape& s) {
  auto j = nlohmann::json::object();
  if (s.base_channels) j["base_channels"] = *s.base_channels;
  if (s.channel_mult) j["channel_mult"] = *s.channel_mult;
  if (s.num_res_blocks) j["num_res_blocks"] = *s.num_res_blocks;
  if (s.attention_resolutions) j["attention_resolutions"] = *s.attention_resolutions;
  if (s.dropout) j["dropout"] = *s.dropout;
  return j;
}

UNetShape unet_shape_from_json(const nlohmann::json& j) {
  UNetShape s;
  if (j.contains("base_channels")) s.base_channels = json_integer<int64_t>(j["base_channels"], "config: unet_shape.base_channels");
  if (j.contains("channel_mult")) s.channel_mult = json_integer<std::vector<int64_t>>(j["channel_mult"], "config: unet_shape.channel_mult");
  if (j.contains("num_res_blocks")) s.num_res_blocks = json_integer<int64_t>(j["num_res_blocks"], "config: unet_shape.num_res_blocks");
  if (j.contains("attention_resolutions"))
    s.attention_resolutions = json_integer<std::vector<int64_t>>(j["attention_resolutions"], "config: unet_shape.attention_resolutions");
  if (j.contains("dropout")) s.dropout = j["dropout"].get<double>();
  return s;
}

}  // namespace

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"data", c.data},
       {"random_flip", c.random_flip},
       {"image_size", c.image_size},
       {"preset", c.preset},
       {"unet_shape", unet_shape_json(c.unet_shape)},
       {"init", c.init},
       {"init_steps", c.init_steps},
       {"model", c.model},
       {"conditional", c.conditional},
       {"label_dropout", c.label_dropout},
       {"min_snr_gamma", c.min_snr_gamma},
       {"prediction", c.prediction},
       {"schedule", c.schedule},
       {"steps", c.steps},
       {"batch", c.batch},
       {"seed", c.seed},
       {"accumulate", c.accumulate},
       {"lr", c.lr},
       {"warmup", c.warmup},
       {"lr_schedule", c.lr_schedule},
       {"lr_decay_end", c.lr_decay_end},
       {"weight_decay", c.weight_decay},
       {"ema_decay", c.ema_decay},
       {"ema_warmup", c.ema_warmup},
       {"grad_clip", c.grad_clip},
       {"sample_every", c.sample_every},
       {"sample_steps", c.sample_steps},
       {"eval_every", c.eval_every},
       {"eval_n", c.eval_n},
       {"eval_features", c.eval_features},
       {"checkpoint_every", c.checkpoint_every},
       {"keep", c.keep},
       {"log_every", c.log_every},
       {"max_bad_steps", c.max_bad_steps},
       {"device", c.device},
       {"precision", c.precision}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  j.at("data").get_to(c.data);
  j.at("random_flip").get_to(c.random_flip);
  c.image_size = json_integer<int64_t>(j.at("image_size"), "config: image_size");
  j.at("preset").get_to(c.preset);
  // Keys added after the first runs were written: absent means the behaviour those runs had.
  c.unet_shape = unet_shape_from_json(j.value("unet_shape", nlohmann::json::object()));
  c.init = j.value("init", std::string());  // absent in runs made before --init existed
  // Absent in runs made before the lineage was kept: their model files count only their own steps.
  c.init_steps = j.contains("init_steps") ? json_integer<int64_t>(j["init_steps"], "config: init_steps") : 0;
  j.at("model").get_to(c.model);
  c.conditional = j.value("conditional", false);  // runs before classes were unconditional
  c.label_dropout = j.value("label_dropout", 0.1);
  c.min_snr_gamma = j.value("min_snr_gamma", 0.0);  // runs before the weighting trained on L_simple
  c.prediction = j.value("prediction", std::string("epsilon"));  // and before the choice, on ε
  j.at("schedule").get_to(c.schedule);
  c.steps = json_integer<int64_t>(j.at("steps"), "config: steps");
  c.batch = json_integer<int64_t>(j.at("batch"), "config: batch");
  c.seed = json_integer<uint64_t>(j.at("seed"), "config: seed");
  c.accumulate = json_integer<int64_t>(j.value("accumulate", nlohmann::json(1)), "config: accumulate");
  j.at("lr").get_to(c.lr);
  c.warmup = json_integer<int64_t>(j.at("warmup"), "config: warmup");
  c.lr_schedule = j.value("lr_schedule", std::string("constant"));
  c.lr_decay_end = json_integer<int64_t>(j.value("lr_decay_end", nlohmann::json(0)), "config: lr_decay_end");
  c.weight_decay = j.value("weight_decay", 0.0);
  j.at("ema_decay").get_to(c.ema_decay);
  c.ema_warmup = j.value("ema_warmup", std::string("ratio"));
  j.at("grad_clip").get_to(c.grad_clip);
  c.sample_every = json_integer<int64_t>(j.at("sample_every"), "config: sample_every");
  c.sample_steps = json_integer<int64_t>(j.at("sample_steps"), "config: sample_steps");
  // Runs before --eval-every measured nothing while they trained.
  c.eval_every = json_integer<int64_t>(j.value("eval_every", nlohmann::json(0)), "config: eval_every");
  c.eval_n = json_integer<int64_t>(j.value("eval_n", nlohmann::json(300)), "config: eval_n");
  c.eval_features = j.value("eval_features", std::string());
  c.checkpoint_every = json_integer<int64_t>(j.at("checkpoint_every"), "config: checkpoint_every");
  c.keep = json_integer<int64_t>(j.at("keep"), "config: keep");
  c.log_every = json_integer<int64_t>(j.at("log_every"), "config: log_every");
  c.max_bad_steps = json_integer<int64_t>(j.at("max_bad_steps"), "config: max_bad_steps");
  j.at("device").get_to(c.device);
  c.precision = j.value("precision", std::string("fp32"));  // runs before bf16 computed in fp32
}

double default_learning_rate(const std::string& preset) {
  struct PresetRate {
    const char* preset;
    double lr;
  };
  static constexpr PresetRate kRates[] = {{"fashion", 2e-3}};
  for (const auto& entry : kRates)
    if (preset == entry.preset) return entry.lr;
  return 2e-4;  // Ho et al.
}

TrainConfig check_train_config(TrainConfig c) {
  const auto non_negative = [](const char* field, double value) {
    if (!(std::isfinite(value) && value >= 0.0))
      throw std::invalid_argument(fmt::format("{} must be a finite number >= 0, got {}", field, value));
  };
  const auto at_least = [](const char* field, int64_t value, int64_t min) {
    if (value < min) throw std::invalid_argument(fmt::format("{} must be at least {}, got {}", field, min, value));
  };
  non_negative("lr", c.lr);  // 0: the network's default, resolved when the network is known
  non_negative("grad_clip", c.grad_clip);
  non_negative("weight_decay", c.weight_decay);
  parse_prediction(c.prediction);  // throws for an unknown name
  if (!(c.min_snr_gamma >= 0.0 && std::isfinite(c.min_snr_gamma)))
    throw std::invalid_argument(fmt::format("min_snr_gamma must be a finite number >= 0, got {}", c.min_snr_gamma));
  if (!(c.label_dropout >= 0.0 && c.label_dropout <= 1.0))
    throw std::invalid_argument(fmt::format("label_dropout must be in [0, 1], got {}", c.label_dropout));
  if (!(c.ema_decay >= 0.0 && c.ema_decay < 1.0))
    throw std::invalid_argument(fmt::format("ema_decay must be in [0, 1), got {}", c.ema_decay));
  at_least("steps", c.steps, 1);
  at_least("batch", c.batch, 1);
  at_least("accumulate", c.accumulate, 1);
  at_least("warmup", c.warmup, 0);
  at_least("lr_decay_end", c.lr_decay_end, 0);
  at_least("image_size", c.image_size, 0);
  at_least("sample_every", c.sample_every, 0);
  at_least("sample_steps", c.sample_steps, 1);
  at_least("eval_every", c.eval_every, 0);
  at_least("eval_n", c.eval_n, 4);
  at_least("checkpoint_every", c.checkpoint_every, 0);
  at_least("keep", c.keep, 1);
  at_least("log_every", c.log_every, 1);
  at_least("max_bad_steps", c.max_bad_steps, 1);
  lr_at(lr_schedule_of(c), 1);        // an unknown learning-rate schedule
  ema_warmup_decay(c.ema_warmup, 0);  // an unknown EMA warm-up
  resolve_precision(c.precision, torch::kCPU, false);  // an unknown precision
  return c;
}

LrSchedule lr_schedule_of(const TrainConfig& c) { return {c.lr_schedule, c.lr, c.warmup, c.lr_decay_end}; }

void record_betas(ScheduleConfig& config, const Schedule& schedule) {
  const auto betas = schedule.betas.contiguous();
  config.betas.assign(betas.data_ptr<double>(), betas.data_ptr<double>() + schedule.T);
  config.timesteps = schedule.T;
}

}  // namespace ddpm
