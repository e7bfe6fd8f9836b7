// Everything that defines a training run (Algorithm 1 and its optimiser), stored as config.json in the
// run folder and in every checkpoint, so `ddpm train --resume` needs nothing but the folder.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "core/schedule.h"
#include "models/model_config.h"

namespace ddpm {

struct TrainConfig {
  std::string data = "fashion-mnist";  // data spec (src/data)
  bool random_flip = false;            // Ho et al. flip CIFAR-10 horizontally
  int64_t image_size = 0;              // folder: data only
  std::string preset;                  // model preset the config came from ("" = custom)
  std::string init;                    // weights file the run started from ("" = random initialisation)
  int64_t init_steps = 0;              // training steps behind those weights, their own --init chain included
  ModelConfig model;
  ScheduleConfig schedule;
  int64_t steps = 10000;               // total optimiser steps
  int64_t batch = 64;
  uint64_t seed = 0;
  double lr = 2e-4;                    // Adam, as Ho et al.
  int64_t warmup = 5000;               // linear lr warmup steps (Ho et al.: 5000)
  double ema_decay = 0.9999;           // Ho et al.
  double grad_clip = 1.0;              // global gradient-norm clip
  int64_t sample_every = 1000;         // EMA sample grid every K steps (0 = never)
  int64_t sample_steps = 100;          // respaced ancestral steps for those grids
  int64_t checkpoint_every = 1000;     // (0 = only at the end)
  int64_t keep = 3;                    // checkpoints kept
  int64_t log_every = 50;              // metrics.jsonl lines and non-terminal progress lines
  int64_t max_bad_steps = 5;           // consecutive non-finite steps before stopping
  std::string device = "cpu";
};

// Returns `config` if every field is finite and in range (lr and grad_clip > 0, ema_decay in [0, 1), counts
// at least 1 or 0 where 0 means "never"); otherwise std::invalid_argument names the first field that is
// not. The trainer checks new and resumed runs alike, before any work.
TrainConfig check_train_config(TrainConfig config);
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

// Ho et al.'s warmup and EMA decay assume 800k steps. For short runs they are scaled so that warmup is at
// most 5% of the run and the EMA's horizon 1/(1-decay) at most 10% of it; returns a note saying what
// changed ("" if nothing). Only applied to values the user did not set.
std::string scale_for_short_run(TrainConfig& config, bool warmup_given, bool ema_given);

}  // namespace ddpm
