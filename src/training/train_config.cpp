// JSON round trip of the run configuration.
#include "training/train_config.h"

#include <algorithm>

#include "io/json_integer.h"
#include "training/ema.h"

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
       {"model", c.model},
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
  // Keys added after the first runs were written: absent means the behaviour those runs had.
  c.unet_shape = unet_shape_from_json(j.value("unet_shape", nlohmann::json::object()));
  c.init = j.value("init", std::string());  // absent in runs made before --init existed
  j.at("model").get_to(c.model);
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
  c.checkpoint_every = json_integer<int64_t>(j.at("checkpoint_every"), "config: checkpoint_every");
  c.keep = json_integer<int64_t>(j.at("keep"), "config: keep");
  c.log_every = json_integer<int64_t>(j.at("log_every"), "config: log_every");
  c.max_bad_steps = json_integer<int64_t>(j.at("max_bad_steps"), "config: max_bad_steps");
  j.at("device").get_to(c.device);
}

LrSchedule lr_schedule_of(const TrainConfig& c) { return {c.lr_schedule, c.lr, c.warmup, c.lr_decay_end}; }

void check_training_settings(const TrainConfig& c) {
  for (const auto& [name, value] : {std::pair{"batch", c.batch}, std::pair{"accumulate", c.accumulate}})
    if (value < 1) throw std::invalid_argument(fmt::format("{} must be >= 1, got {}", name, value));
  for (const auto& [name, value] : {std::pair{"warmup", static_cast<double>(c.warmup)},
                                    std::pair{"lr_decay_end", static_cast<double>(c.lr_decay_end)},
                                    std::pair{"weight_decay", c.weight_decay}, std::pair{"grad_clip", c.grad_clip}})
    if (!(value >= 0.0)) throw std::invalid_argument(fmt::format("{} must be >= 0, got {}", name, value));
  lr_at(lr_schedule_of(c), 1);   // an unknown learning-rate schedule
  ema_warmup_decay(c.ema_warmup, 0);  // an unknown EMA warm-up
}

void record_betas(ScheduleConfig& config, const Schedule& schedule) {
  const auto betas = schedule.betas.contiguous();
  config.betas.assign(betas.data_ptr<double>(), betas.data_ptr<double>() + schedule.T);
  config.timesteps = schedule.T;
}

}  // namespace ddpm
