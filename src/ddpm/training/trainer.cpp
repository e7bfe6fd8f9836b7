// Algorithm 1 with Ho et al.'s optimisation details, and the loop around it. What a checkpoint holds is in
// trainer_checkpoint.cpp, the run folder's policy in new_run.cpp, the rest in files named for their job.
#include "ddpm/training/trainer.h"

#include <filesystem>
#include <limits>
#include <stdexcept>

#include "ddpm/core/random.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/io/remedy.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/memory_budget.h"
#include "ddpm/models/model_choice.h"
#include "ddpm/models/module_weights.h"
#include "ddpm/training/data_parallel.h"
#include "ddpm/training/gradient_step.h"
#include "ddpm/training/metrics_log.h"
#include "ddpm/training/new_run.h"
#include "ddpm/training/progress.h"
#include "ddpm/training/rng_state.h"
#include "ddpm/training/sample_grid.h"
#include "ddpm/training/stop_signal.h"

namespace ddpm {
namespace {

// derive_seed(run seed, this) seeds the generator of t, ε and flips (training/sample_grid.cpp uses 2).
constexpr uint64_t kStepNoiseStream = 1;

// The step's statistics as one tensor: [loss, loss sum by quarter of the t range (4), example count by
// quarter (4), a stop signal received (0 or 1)], so that a data-parallel group averages them with the
// gradients (equal slices: the mean of the ranks' means is the global mean; every rank sees any rank's stop).
torch::Tensor step_summary(const GradientStep& grad, int64_t T) {
  auto summary = torch::zeros({10}, torch::kFloat64);
  summary[9] = StopSignals::received() != 0 ? 1.0 : 0.0;
  summary[0] = grad.loss;
  auto quarter = torch::div(grad.t.to(torch::kCPU) * 4, T, "floor");  // integer t: 0..3
  auto losses = grad.per_example.detach().to(torch::kCPU, torch::kFloat64);
  summary.slice(0, 1, 5).index_add_(0, quarter, losses);
  summary.slice(0, 5, 9).index_add_(0, quarter, torch::ones_like(losses));
  return summary;
}

}  // namespace

Trainer::Trainer(TrainConfig config, std::string run_dir, bool choose_model, const std::optional<DataParallel>& parallel)
    : config_(check_train_config(std::move(config))),
      run_dir_(std::move(run_dir)),
      device_(device_for_rank(config_.device, parallel)),
      group_(join_group(parallel, device_)),
      schedule_(make_schedule(config_.schedule)),
      data_(load_dataset(config_.data, DataOptions{"train", config_.image_size, 0})),
      batches_(data_.size(), config_.batch * config_.accumulate, config_.seed, rank(), world_size()),
      ema_(config_.ema_decay, config_.ema_warmup),
      gen_(make_generator(derive_seed(config_.seed, kStepNoiseStream), device_)) {
  if (config_.batch * config_.accumulate > data_.size())
    throw std::invalid_argument(fmt::format("batch {} x accumulate {} is larger than the data set ({} examples)",
                                            config_.batch, config_.accumulate, data_.size()));
  if (config_.batch % world_size() != 0)
    throw std::invalid_argument(fmt::format("batch {} cannot be split evenly over {} ranks", config_.batch, world_size()));
  if (config_.schedule.kind == "custom") record_betas(config_.schedule, schedule_);
  if (choose_model) {
    config_.model = model_for_data(config_.preset, data_.sample_shape(), config_.unet_shape, &config_.preset);
    config_.model.prediction = parse_prediction(config_.prediction);
  } else {
    config_.prediction = to_string(config_.model.prediction);  // the given network's own
  }
  if (config_.lr == 0.0) config_.lr = default_learning_rate(config_.preset);  // recorded: a resume keeps it
  use_classes();
  if (sample_shape(config_.model) != data_.sample_shape())
    throw std::invalid_argument(fmt::format("the network takes samples of shape [{}], the data's are [{}]",
                                            fmt::join(sample_shape(config_.model), ", "),
                                            fmt::join(data_.sample_shape(), ", ")));
  check_batch_fits(config_.model, config_.batch / world_size(), /*training=*/true, device_, "lower the batch size");
  precision_ = choose_precision(config_.precision, device_, config_.model);
  config_.precision = precision_name(precision_);  // auto, resolved once: a resumed run computes as it began
  // The same seed gives the same initial weights (LibTorch initialises from the default generator), on
  // every rank of a group too.
  torch::manual_seed(config_.seed);
  net_ = build_model(config_.model);
  ema_net_ = build_model(config_.model);
  copy_weights(*ema_net_, *net_);
  for (auto& p : ema_net_->parameters()) p.requires_grad_(false);
  net_->to(device_);
  ema_net_->to(device_);
  ema_net_->eval();
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      net_->parameters(), torch::optim::AdamWOptions(config_.lr).weight_decay(config_.weight_decay));
}

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, const std::string& run_dir, bool choose_model,
                                         const std::optional<DataParallel>& parallel, const StepEvaluationFactory& measure) {
  // The other ranks neither look at the folder (rank 0 may be creating it) nor write it; when rank 0
  // refuses, they fail at check_ranks_agree.
  const bool writer = !parallel || parallel->env.rank == 0;
  ClaimedRunFolder claimed;
  if (writer) claimed = claim_new_run_folder(run_dir);
  RemovedUnlessKept new_folder(claimed.created ? run_dir : "");  // a failed start leaves no folder it made
  TrainConfig effective = config;
  if (effective.lr_decay_end == 0) effective.lr_decay_end = effective.steps;  // fixed now: see TrainConfig
  const auto init = apply_init(effective);
  if (init) choose_model = false;
  std::unique_ptr<Trainer> trainer(new Trainer(effective, run_dir, choose_model, parallel));
  trainer->lock_ = std::move(claimed.lock);
  trainer->set_up_evaluation(measure);
  if (init) {
    // Unconditional weights given classes keep the new class embedding's fresh N(0, 1) rows. Zero rows would
    // start the network exactly as the weights were, but measured on Fashion-MNIST they stay near zero (their
    // gradient is noise until the network reacts to the class), and 953 steps learned no class (docs/CLASSES.md).
    copy_shared_weights(*trainer->net_, *init->net);
    copy_shared_weights(*trainer->ema_net_, *init->net);
  }
  if (writer) {
    // config.json first: every checkpoint carries its digest, and resume refuses a run without it.
    trainer->config_digest_ = write_run_config(run_dir, trainer->config_);
    trainer->save_checkpoint();  // step 0: a run is resumable from the moment it exists
  }
  trainer->check_ranks_agree();
  new_folder.keep();
  return trainer;
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& run_dir, std::optional<int64_t> total_steps,
                                         const std::optional<DataParallel>& parallel, const StepEvaluationFactory& measure) {
  std::error_code ec;
  if (!std::filesystem::is_directory(run_dir, ec))
    throw std::invalid_argument(fmt::format("no run folder at '{}'", run_dir));
  std::unique_ptr<RunLock> lock;
  if (!parallel || parallel->env.rank == 0) lock = std::make_unique<RunLock>(run_dir);
  auto latest = latest_checkpoint(run_dir);
  if (!latest)
    throw ActionableError(fmt::format("'{}' has no complete checkpoint to resume from", run_dir), Remedy::start_run_over,
                          run_dir);
  const auto data = read_checkpoint(*latest);  // read once: the configuration and the state to restore
  TrainConfig config;
  try {
    config = data.state.at("config").get<TrainConfig>();
    check_run_config(run_dir, data.state.at("config_digest").get<std::string>());
    // A run records the precision it chose; one that says anything else cannot continue as it began.
    if (config.precision != "fp32" && config.precision != "bf16")
      throw std::runtime_error(fmt::format("checkpoint '{}': state.json: precision '{}' (a run records fp32 or bf16)",
                                           *latest, config.precision));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("checkpoint '{}': state.json: {}", *latest, e.what()));
  }
  if (total_steps) config.steps = *total_steps;
  std::unique_ptr<Trainer> trainer(new Trainer(config, run_dir, false, parallel));
  trainer->lock_ = std::move(lock);
  trainer->set_up_evaluation(measure);
  trainer->restore(data, *latest);
  trainer->check_ranks_agree();
  return trainer;
}

void Trainer::use_classes() {
  // Weights that were trained with classes (--init, or a resumed run) keep training with them.
  if (config_.model.conditional()) config_.conditional = true;
  if (!config_.conditional) return;
  if (!data_.labels.defined())
    throw std::invalid_argument(fmt::format("{} has no class labels, which class-conditional training needs", data_.name));
  auto& names = config_.model.class_names;
  if (names.empty()) names = data_.class_names;  // a new network, or unconditional weights given classes
  if (names != data_.class_names)
    throw std::invalid_argument(fmt::format("the network's classes ({}) are not the data's ({})", fmt::join(names, ", "),
                                            fmt::join(data_.class_names, ", ")));
}

void Trainer::set_up_evaluation(const StepEvaluationFactory& measure) {
  if (config_.eval_every == 0 || !writes_run()) return;  // the other ranks never measure
  if (!measure) throw std::invalid_argument("the run measures its samples every few steps, but no measurement was given");
  // Loading a feature network builds modules, whose initial weights come from LibTorch's default generator, which
  // also draws the run's dropout masks: the measured run must train as the unmeasured one.
  auto generator = at::detail::getDefaultCPUGenerator();
  const auto saved = generator.get_state();
  step_evaluation_ = measure(config_, precision_);
  generator.set_state(saved);
}

void Trainer::measure_samples(TrainProgress& progress, MetricsLog& metrics) {
  // A measurement that fails (memory, a feature network's error) or is stopped by a signal costs its record,
  // never the run: training goes on to its next checkpoint. (A log that cannot be written still stops the run.)
  StepEvaluationResult measured;
  try {
    measured = step_evaluation_(ema_net_, step_);
  } catch (const std::exception& e) {
    progress.note(fmt::format("quality at step {} not measured: {}", step_, e.what()));
    return;
  }
  metrics.write({{"step", step_}, {"eval", measured.record}});
  progress.note(measured.summary);
}

void Trainer::check_ranks_agree() {
  if (group_) ddpm::check_ranks_agree(*group_, step_, nlohmann::json(config_).dump(), *net_);
}

void Trainer::apply_lr() {
  const double lr = lr_at(lr_schedule_of(config_), step_);
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

StepStats Trainer::train_step() {
  StepStats stats;
  // The next batch was prepared on the prefetcher's thread while the previous step ran.
  if (!prefetcher_)
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_, batches_, config_.random_flip && data_.is_image());
  auto batch = prefetcher_->next();
  batches_.set_state(batch.next);  // the position a checkpoint resumes from: right after this batch
  auto x0 = batch.x.to(device_);
  GradientOptions options;
  options.grad_clip = config_.grad_clip;
  options.global_batch = config_.batch * config_.accumulate;
  options.offset = rank() * x0.size(0);
  options.micro_batches = config_.accumulate;
  options.precision = precision_;
  options.min_snr_gamma = config_.min_snr_gamma;
  if (config_.conditional) {
    options.labels = batch.labels;
    options.label_dropout = config_.label_dropout;
    options.null_label = config_.model.num_classes();
  }
  if (loss_hook) options.loss_hook = [this](const torch::Tensor& loss) { return loss_hook(loss, step_ + 1); };
  torch::Tensor summary;
  options.before_clip = [&](const GradientStep& grad) {
    summary = step_summary(grad, schedule_.T);
    if (group_) average_gradients(summary);
  };
  if (group_) seed_dropout(device_, config_.seed, rank(), step_);
  const auto grad = compute_gradient(*net_, *optimizer_, schedule_, x0, gen_, options);
  stats.loss = summary[0].item<double>();
  stats.stop = summary[9].item<double>() > 0;
  loss_average_.add(stats.loss);
  stats.grad_norm = grad.grad_norm;
  stats.step = ++step_;
  stats.batch = config_.batch * config_.accumulate;
  apply_lr();  // the rate of step step_ (1-based), the one about to be taken
  stats.lr = static_cast<torch::optim::AdamWOptions&>(optimizer_->param_groups()[0].options()).lr();
  stats.ema_decay = ema_.current_decay();

  if (!std::isfinite(stats.loss) || !std::isfinite(stats.grad_norm)) {
    optimizer_->zero_grad();
    stats.skipped = true;
    ++skipped_total_;
    if (++bad_in_row_ >= config_.max_bad_steps)
      throw ActionableError(fmt::format("training stopped at step {}: {} non-finite losses or gradients in a row "
                                        "(loss {}, gradient norm {}); the last checkpoint is kept",
                                        step_, bad_in_row_, stats.loss, stats.grad_norm),
                            Remedy::lower_learning_rate);
    return stats;
  }
  bad_in_row_ = 0;
  optimizer_->step();
  if (writes_run()) ema_.update(*ema_net_, *net_);  // the other ranks never save or sample it

  // Loss by quarter of the t range: where in the chain the network is still weak.
  for (int64_t q = 0; q < 4; ++q) {
    const double count = summary[5 + q].item<double>();
    stats.loss_by_quarter[q] = count > 0 ? summary[1 + q].item<double>() / count : std::numeric_limits<double>::quiet_NaN();
  }
  return stats;
}

void Trainer::average_gradients(torch::Tensor& summary) {
  try {
    average_across_ranks(*group_, *net_, summary, fmt::format("averaging the gradients of step {}", step_ + 1));
  } catch (const std::runtime_error& e) {
    throw ActionableError(fmt::format("{}; the last checkpoint in '{}' is kept", e.what(), run_dir_),
                          Remedy::resume_every_rank, run_dir_);
  }
}

std::string Trainer::save_sample_grid() {
  if (!writes_run()) throw std::logic_error("only rank 0 writes sample grids");
  if (!data_.is_image()) return "";
  return write_sample_grid(run_dir_, step_, *ema_net_, config_.model, schedule_, config_.seed, config_.sample_steps,
                           device_, precision_);
}

void Trainer::run(bool live_progress) {
  if (step_ >= config_.steps) {
    if (writes_run())
      std::fprintf(stderr, "run is already at step %lld of %lld: nothing to do\n", static_cast<long long>(step_),
                 static_cast<long long>(config_.steps));
    return;
  }
  const StopSignals stop_signals;
  // In a group, a rank may stop for a signal another rank received; it then reports SIGTERM's status.
  const auto interrupted = [this](const std::string& what) {
    const int received = StopSignals::received();
    return Interrupted(fmt::format("{} at step {}: {}", received ? signal_name(received) : "a stop signal on another rank",
                                   step_, what),
                       run_dir_, received ? received : SIGTERM);
  };
  if (!writes_run()) {  // the others only take the steps; rank 0 reports and writes
    while (step_ < config_.steps)
      if (train_step().stop) throw interrupted("rank 0 writes the checkpoint");
    return;
  }
  const int64_t first_step = step_ + 1;
  TrainProgress progress(step_, config_.steps, live_progress);
  MetricsLog metrics(run_dir_, step_);
  const auto batch_note = group_ ? fmt::format("{} ({} ranks × {})", config_.batch, world_size(), config_.batch / world_size())
                                : std::to_string(config_.batch);
  progress.note(fmt::format("training {} ({}) on {} for steps {}..{}, batch {}, device {}", config_.preset.empty() ? config_.model.arch : config_.preset,
                            fmt::format("{} parameters", parameter_count(*net_)), data_.name, step_ + 1, config_.steps,
                            batch_note, device_.str()));
  int64_t last_checkpoint = step_;
  while (step_ < config_.steps) {
    const auto stats = train_step();
    progress.step(stats.step, loss_average_, stats.skipped, stats.batch, skipped_total_);
    if (stats.skipped)
      progress.note(fmt::format("step {}: non-finite loss or gradient, step skipped ({} skipped in this run so far, "
                                "{} in a row; training stops at {} in a row)",
                                stats.step, skipped_total_, bad_in_row_, config_.max_bad_steps));
    if (stats.step % config_.log_every == 0 || stats.step == 1 || stats.skipped)
      metrics.write(metrics_record(stats, progress.images_per_second(), skipped_total_));
    if (config_.sample_every > 0 && stats.step % config_.sample_every == 0 && !stats.stop) {
      const auto grid = save_sample_grid();
      if (!grid.empty()) progress.note("samples: " + grid);
    }
    if (config_.eval_every > 0 && stats.step % config_.eval_every == 0 && !stats.stop) measure_samples(progress, metrics);
    if (config_.checkpoint_every > 0 && stats.step % config_.checkpoint_every == 0) {
      progress.note("checkpoint: " + save_checkpoint());
      last_checkpoint = stats.step;
    }
    if (stats.stop) {
      if (last_checkpoint != step_) progress.note("checkpoint: " + save_checkpoint());
      progress.finish();
      throw interrupted("its checkpoint is written");
    }
  }
  if (last_checkpoint != step_) progress.note("checkpoint: " + save_checkpoint());
  // Skipped steps leave the weights as they were, so a run that ends on several of them (or skipped all it
  // took) kept weights that no longer give a finite loss (a learning rate that blew them up, non-finite
  // --init weights): not a trained model. One skipped last step is what a single bad example does.
  if (bad_in_row_ >= 2 || bad_in_row_ > step_ - first_step) {
    progress.finish();
    throw ActionableError(fmt::format("training ended at step {} on {} skipped steps in a row ({} skipped in all): the "
                                      "weights give non-finite losses; the checkpoint is kept, but it is not a "
                                      "trained model",
                                      step_, bad_in_row_, skipped_total_),
                          Remedy::lower_learning_rate);
  }
  if (config_.sample_every > 0 && step_ % config_.sample_every != 0) {
    const auto grid = save_sample_grid();
    if (!grid.empty()) progress.note("samples: " + grid);
  }
  if (config_.eval_every > 0 && step_ % config_.eval_every != 0) measure_samples(progress, metrics);  // the end's
  progress.finish();
  if (skipped_total_ > 0) std::fprintf(stderr, "%lld non-finite steps were skipped\n", static_cast<long long>(skipped_total_));
}

}  // namespace ddpm
