// Everything that defines a training run (Algorithm 1 and its optimiser), stored as config.json in the
// run folder and in every checkpoint, so `ddpm train --resume` needs nothing but the folder.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "ddpm/core/schedule.h"
#include "ddpm/models/model_config.h"
#include "ddpm/training/lr_schedule.h"
#include "ddpm/models/model_choice.h"

namespace ddpm {

struct TrainConfig {
  std::string data = "fashion-mnist";  // data spec (src/ddpm/data)
  bool random_flip = false;            // Ho et al. flip CIFAR-10 horizontally
  int64_t image_size = 0;              // folder: data only
  std::string preset;                  // model preset the config came from ("" = custom)
  UNetShape unet_shape;                // settings replacing the preset's, as asked for (the result is `model`)
  std::string init;                    // weights file the run started from ("" = random initialisation)
  int64_t init_steps = 0;              // training steps behind those weights, their own --init chain included
  ModelConfig model;
  // Class-conditional training (Ho & Salimans 2021) on the data's labels: the network gets the data's classes
  // (model.class_names), and each example's label is replaced by the null label with probability
  // label_dropout, so that one network learns ε(x_t, t, c) and ε(x_t, t, ∅) both.
  bool conditional = false;
  double label_dropout = 0.1;
  // > 0: min-SNR-γ loss weighting (Hang et al. 2023; they use γ = 5); 0: L_simple, Ho et al.'s.
  double min_snr_gamma = 0.0;
  // What a new network learns to predict (core/prediction.h: epsilon, x0, v); a run from --init weights keeps
  // theirs (model.prediction).
  std::string prediction = "epsilon";
  ScheduleConfig schedule;
  int64_t steps = 10000;               // total optimiser steps
  int64_t batch = 64;
  uint64_t seed = 0;
  int64_t accumulate = 1;              // micro-batches of `batch` examples per optimiser step
  // The optimiser, its learning rate and the EMA: functions of the step and of these values alone, all fixed
  // when the run starts (lr_decay_end included), so a run extended by --resume matches an uninterrupted one.
  double lr = 0.0;                     // AdamW's peak rate; 0: default_learning_rate's, fixed when the run starts
  int64_t warmup = 500;                // linear lr warm-up steps (Ho et al.: 5000 of 800k)
  std::string lr_schedule = "constant";  // after the warm-up: constant | cosine | linear (training/lr_schedule.h)
  int64_t lr_decay_end = 0;            // the step where the decay reaches zero (0: `steps` when the run starts)
  double weight_decay = 0.0;           // AdamW's decoupled weight decay (Ho et al.: none)
  double ema_decay = 0.9999;           // Ho et al.
  std::string ema_warmup = "ratio";    // ratio | power | none (training/ema.h)
  double grad_clip = 1.0;              // global gradient-norm clip (Ho et al.: 1); 0: no clipping
  int64_t sample_every = 1000;         // EMA sample grid every K steps (0 = never)
  int64_t sample_steps = 100;          // respaced ancestral steps for those grids
  // Sample quality of the EMA network every K steps (0 = never; evaluation/training_quality.h): FID, precision
  // and recall of eval_n samples against the test split, in eval_features' space ("" = the shipped classifier).
  int64_t eval_every = 0;
  int64_t eval_n = 300;
  std::string eval_features;
  int64_t checkpoint_every = 1000;     // (0 = only at the end)
  int64_t keep = 3;                    // checkpoints kept
  int64_t log_every = 50;              // metrics.jsonl lines and non-terminal progress lines
  int64_t max_bad_steps = 5;           // consecutive non-finite steps before stopping
  std::string device = "cpu";
  // The arithmetic of the network's products (runtime/precision.h): fp32 | bf16, or auto, which a new run
  // resolves for its device and records, so that a resumed run computes as it began.
  std::string precision = "fp32";
};

// The peak learning rate of a run not given one, by the preset its network was chosen from (`preset`; empty for
// a network from --init weights): Ho et al.'s 2e-4 (Adam, tuned for their 35.7M-parameter networks), except for
// the 1.6M-parameter `fashion` U-Net and the networks fitted from its design: 2e-3, which reached the FID of
// 2e-4 in about half the steps in the recipe study (docs/TRAINING.md) with no sign of instability.
double default_learning_rate(const std::string& preset);

// Returns `config` if every field is finite and in range (lr >= 0, 0 meaning the default; grad_clip and
// weight_decay >= 0; ema_decay in [0, 1); counts at least 1, or 0 where 0 means "never"; a known learning-rate schedule and
// EMA warm-up); otherwise std::invalid_argument names the first field that is not. The trainer checks new
// and resumed runs alike, before any work.
TrainConfig check_train_config(TrainConfig config);
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

// The learning-rate schedule the config describes.
LrSchedule lr_schedule_of(const TrainConfig& config);
// Stores the schedule's β values in its config, so that a run and its model files no longer need the file.
void record_betas(ScheduleConfig& config, const Schedule& schedule);

}  // namespace ddpm
