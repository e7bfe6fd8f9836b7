// Training by L_simple, Algorithm 1 of Ho et al. 2020: x_0 from the data, t ~ Uniform{1..T}, ε ~ N(0, I),
// x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, a gradient step on ‖ε - ε_θ(x_t, t)‖². With Ho et al.'s Adam (as AdamW, for
// an optional weight decay), warm-up, gradient clipping and EMA, learning-rate decay and gradient
// accumulation; checkpoints that resume bit-identically; non-finite steps skipped.
// Data-parallel over several processes (training/distributed.h): each rank trains on its slice of every
// global batch, gradients are averaged before the step, and rank 0 alone keeps the EMA and writes the run.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/optim/adamw.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ddpm/core/schedule.h"
#include "ddpm/data/batch_order.h"
#include "ddpm/data/dataset.h"
#include "ddpm/data/prefetcher.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/training/distributed.h"
#include "ddpm/training/ema.h"
#include "ddpm/training/run_lock.h"
#include "ddpm/training/metrics_log.h"
#include "ddpm/training/progress.h"
#include "ddpm/training/step_evaluation.h"
#include "ddpm/training/step_stats.h"
#include "ddpm/training/train_config.h"

namespace ddpm {

class Trainer {
 public:
  // A new run in `run_dir` (created; it must not already hold a run; a failed start removes the folder if
  // it created it). The network comes from config.preset fitted to the data's shape, with
  // config.unet_shape's settings (model_for_data); config.model is replaced. A decay without
  // config.lr_decay_end ends at config.steps.
  // With choose_model = false, config.model is used as given (it must fit the data).
  // With config.init set (a model file, run folder or shipped name), the network and the schedule are
  // the ones stored with those weights, and training starts from them instead of a random initialisation
  // (fine-tuning); config.init is then recorded as the resolved path.
  // With `parallel`, this process joins the data-parallel group first; config.batch is the global batch
  // (a multiple of the world size). Only rank 0 checks and writes the run folder.
  // `measure` makes the measurement taken every config.eval_every steps (training/step_evaluation.h), on rank 0;
  // a config that asks for one without it, or one that cannot be measured, fails before the folder is kept.
  static std::unique_ptr<Trainer> create(const TrainConfig& config, const std::string& run_dir, bool choose_model = true,
                                         const std::optional<DataParallel>& parallel = std::nullopt,
                                         const StepEvaluationFactory& measure = {});
  // Resumes the latest complete checkpoint of `run_dir`; `total_steps` replaces the configured total (where
  // training stops: the learning-rate and EMA schedules keep the values recorded when the run started).
  // A missing run or one without a complete checkpoint is an error. With `parallel`, every rank reads the
  // same folder (a shared file system or a copy), and they must agree on the step; the world size may differ
  // from the run's earlier parts.
  static std::unique_ptr<Trainer> resume(const std::string& run_dir, std::optional<int64_t> total_steps,
                                         const std::optional<DataParallel>& parallel = std::nullopt,
                                         const StepEvaluationFactory& measure = {});

  // One step of Algorithm 1. Throws after config.max_bad_steps non-finite steps in a row.
  StepStats train_step();
  // Writes a checkpoint for the current step (refuses weights that are not finite) and prunes old ones.
  // Rank 0 only (std::logic_error elsewhere), as for the grids.
  std::string save_checkpoint();
  // A grid of EMA samples from fixed noise, RUN/samples/step-XXXXXXXX.png; returns its path.
  std::string save_sample_grid();
  // Trains to config.steps with progress, metrics, periodic grids and checkpoints. SIGINT or SIGTERM
  // (training/stop_signal.h) ends it after the current step and a checkpoint, throwing Interrupted.
  void run(bool live_progress);

  int64_t step() const { return step_; }
  const TrainConfig& config() const { return config_; }
  const Schedule& schedule() const { return schedule_; }
  NoiseNetImpl& model() { return *net_; }
  NoiseNetImpl& ema_model() { return *ema_net_; }
  int64_t skipped_steps() const { return skipped_total_; }
  // The moving average of the loss the progress line shows (carried across resume).
  const LossAverage& loss_average() const { return loss_average_; }
  // Rank 0 of a group, or a single process: the one that keeps the EMA and writes the run folder.
  bool writes_run() const { return !group_ || group_->rank() == 0; }


  // Fault injection for tests: called with the loss before backward; may replace it (e.g. with NaN).
  std::function<torch::Tensor(const torch::Tensor& loss, int64_t step)> loss_hook;

 private:
  Trainer(TrainConfig config, std::string run_dir, bool choose_model, const std::optional<DataParallel>& parallel);
  void apply_lr();
  void set_up_evaluation(const StepEvaluationFactory& measure);
  void measure_samples(TrainProgress& progress, MetricsLog& metrics);
  // Checks and completes a class-conditional run's classes (the data's labels and the network's names).
  void use_classes();
  void restore(const CheckpointData& data, const std::string& checkpoint_dir);  // trainer_checkpoint.cpp
  void restore_state(const CheckpointData& data, const std::string& checkpoint_dir);
  int64_t rank() const { return group_ ? group_->rank() : 0; }
  int64_t world_size() const { return group_ ? group_->world_size() : 1; }
  void check_ranks_agree();
  void average_gradients(torch::Tensor& summary);

  std::unique_ptr<RunLock> lock_;  // rank 0's ownership of the run folder, released last
  TrainConfig config_;
  std::string run_dir_;
  torch::Device device_;
  Precision precision_ = Precision::fp32;  // config_.precision resolved for device_ and the model
  std::shared_ptr<DistributedGroup> group_;  // null: a single process
  Schedule schedule_;
  Dataset data_;
  BatchOrder batches_;  // its state: the position after the last batch trained on
  std::unique_ptr<BatchPrefetcher> prefetcher_;
  NoiseNet net_, ema_net_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  Ema ema_;
  at::Generator gen_;      // t, ε and flips
  int64_t step_ = 0;
  int64_t bad_in_row_ = 0, skipped_total_ = 0;
  std::string config_digest_;  // of RUN/config.json, carried by every checkpoint
  LossAverage loss_average_;
  StepEvaluation step_evaluation_;
};

}  // namespace ddpm
