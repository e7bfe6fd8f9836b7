// `ddpm train`: Algorithm 1 on a data set, into a run folder; `--resume RUN` continues one.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/evaluation/training_quality.h"
#include "ddpm/models/model_config.h"
#include "ddpm/training/distributed.h"
#include "ddpm/training/new_run.h"
#include "ddpm/training/ema.h"
#include "ddpm/training/lr_schedule.h"
#include "ddpm/training/train_config.h"
#include "ddpm/training/trainer.h"

namespace ddpm::cli {
namespace {

struct TrainFlags {
  TrainConfig config;
  std::string out, resume;
  bool force = false;
  double dist_timeout = static_cast<double>(kDefaultDistTimeout.count());
  CLI::Option* steps = nullptr;
  ScheduleFlags schedule{};
};

void run(TrainFlags& f) {
  const bool live = ::isatty(STDERR_FILENO);
  // Data-parallel when launched by torchrun (or anything that sets the same variables) with WORLD_SIZE > 1.
  std::optional<DataParallel> parallel;
  if (auto env = distributed_env_from_environment())
    parallel = DataParallel{*env, std::chrono::milliseconds(std::llround(f.dist_timeout * 1000))};
  const bool rank0 = !parallel || parallel->env.rank == 0;
  std::unique_ptr<Trainer> trainer;
  if (!f.resume.empty()) {
    trainer = Trainer::resume(f.resume, f.steps->count() ? std::optional<int64_t>(f.config.steps) : std::nullopt, parallel,
                              training_quality_evaluation);
    if (rank0) std::fprintf(stderr, "resuming %s at step %lld\n", f.resume.c_str(), static_cast<long long>(trainer->step()));
  } else {
    if (f.out.empty()) throw CLI::RequiredError("--out (or --resume RUN_DIR)");
    finish_schedule_flags(f.schedule, f.config.schedule);
    // Recorded absolute, so that --resume from another folder finds it.
    if (!f.config.eval_features.empty()) f.config.eval_features = std::filesystem::absolute(f.config.eval_features).string();
    if (f.force && rank0) discard_unresumable_run(f.out);
    trainer = Trainer::create(f.config, f.out, true, parallel, training_quality_evaluation);
  }
  trainer->run(live);
}

}  // namespace

Subcommand add_train(CLI::App& parent) {
  auto* app = parent.add_subcommand("train", "train a DDPM with L_simple (Algorithm 1) into a run folder");
  auto f = std::make_shared<TrainFlags>();
  auto& c = f->config;
  add_data_flag(*app, c.data, "training data:");
  app->add_option("--out", f->out, "run folder to create (checkpoints, samples/, metrics.jsonl)");
  auto* resume = app->add_option("--resume", f->resume, "continue the run in this folder from its latest checkpoint");
  app->add_flag("--force", f->force, "start over in an --out folder whose checkpoints are all incomplete (a folder "
                                     "with a complete checkpoint is never started over)");
  auto* preset = app->add_option("--preset", c.preset, "network preset (default: chosen from the data's shape)")
                     ->check(CLI::IsMember(preset_names()));
  auto* init = app->add_option("--init", c.init,
                  "start from these weights instead of a random initialisation (fine-tuning): a model file, run "
                  "folder, diffusers folder or shipped name; the network and schedule are the ones stored with them")
      ->excludes(preset);
  f->steps = app->add_option("--steps", c.steps, "total training steps (with --resume: the new total)")
                 ->capture_default_str()->check(positive());
  app->add_option("--batch", c.batch, "batch size (with --accumulate: of each micro-batch)")
      ->capture_default_str()->check(positive());
  app->add_option("--accumulate", c.accumulate,
                  "gradient accumulation: micro-batches per optimiser step (an effective batch of --batch x K at "
                  "the memory of --batch)")
      ->capture_default_str()->check(positive());
  app->add_option("--seed", c.seed, "seed of the whole run")->capture_default_str();
  app->add_option("--lr", c.lr, "peak learning rate (AdamW); default: 2e-3 for a fashion-preset network, else 2e-4 "
                               "(Ho et al.), also for --init weights")
      ->check(positive());
  app->add_option("--warmup", c.warmup, "linear learning-rate warm-up steps: step s <= warmup trains at lr x s/warmup")
      ->capture_default_str()->check(non_negative());
  app->add_option("--lr-schedule", c.lr_schedule, "learning rate after the warm-up: constant, or cosine or linear "
                  "decay to zero at --lr-decay-end")
      ->capture_default_str()->check(CLI::IsMember(lr_schedule_kinds()));
  app->add_option("--lr-decay-end", c.lr_decay_end,
                  "step where the decay reaches zero (default: --steps; fixed when the run starts, so --resume "
                  "--steps N does not stretch it)")
      ->check(positive());
  app->add_option("--weight-decay", c.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str()->check(non_negative());
  app->add_option("--grad-clip", c.grad_clip, "clip the global gradient norm to this (0: no clipping)")
      ->capture_default_str()->check(non_negative());
  app->add_option("--ema-decay", c.ema_decay, "EMA decay (the most the warm-up allows)")
      ->capture_default_str()->check(between(0.0, 1.0, false));
  app->add_option("--ema-warmup", c.ema_warmup,
                  "EMA decay after n updates: min(--ema-decay, w(n)); ratio: w = (1+n)/(10+n); power: "
                  "w = 1-(1+n)^(-2/3) (diffusers); none: w = 1")
      ->capture_default_str()->check(CLI::IsMember(ema_warmup_kinds()));
  app->add_option("--sample-every", c.sample_every, "EMA sample grid every K steps (0: only at the end)")
      ->capture_default_str()->check(non_negative());
  app->add_option("--sample-steps", c.sample_steps, "respaced sampling steps for those grids")
      ->capture_default_str()->check(positive());
  app->add_option("--eval-every", c.eval_every,
                  "every K steps, FID, precision and recall of --eval-n EMA samples (DDIM, 50 steps) against the test "
                  "split, logged in metrics.jsonl and shown (0: never; images only)")
      ->capture_default_str()->check(non_negative());
  app->add_option("--eval-n", c.eval_n, "samples (and test images) of each --eval-every measurement")
      ->capture_default_str()->check(positive());
  app->add_option("--eval-features", c.eval_features,
                  "a TorchScript feature network for --eval-every (default: the shipped Fashion-MNIST classifier)");
  app->add_option("--checkpoint-every", c.checkpoint_every, "checkpoint every K steps (0: only at the end)")
      ->capture_default_str()->check(non_negative());
  app->add_option("--keep", c.keep, "checkpoints kept")->capture_default_str()->check(positive());
  app->add_option("--max-bad-steps", c.max_bad_steps, "stop after this many non-finite steps in a row (each is skipped)")
      ->capture_default_str()->check(positive());
  app->add_option("--log-every", c.log_every, "metrics.jsonl line every K steps")->capture_default_str()->check(positive());
  f->schedule = add_schedule_flags(app, c.schedule);
  for (auto* o : {f->schedule.kind, f->schedule.timesteps, f->schedule.betas_file}) o->excludes(init);
  for (auto* o : add_unet_shape_flags(app, c.unet_shape)) o->excludes(init);
  auto* conditional = app->add_flag("--conditional", c.conditional,
                                    "class-conditional training on the data's labels, for classifier-free guidance "
                                    "(with --init: unconditional weights gain classes)");
  app->add_option("--label-dropout", c.label_dropout,
                  "with --conditional: the probability that an example trains without its class (the null label), "
                  "so that one network samples with or without classes")
      ->capture_default_str()->check(between(0.0, 1.0))->needs(conditional);
  app->add_option("--prediction", c.prediction, choices_help("what the network learns to predict:", prediction_help()))
      ->capture_default_str()->check(CLI::IsMember(prediction_kinds()))->excludes(init);
  app->add_option("--min-snr-gamma", c.min_snr_gamma,
                  "weight each example's loss by min-SNR-gamma (Hang et al. 2023, who use 5): min(SNR(t), gamma)/SNR(t) "
                  "for epsilon, /(SNR(t) + 1) for v, min(SNR(t), gamma) for x0; 0: unweighted (Ho et al.'s L_simple)")
      ->capture_default_str()->check(non_negative());
  app->add_option("--image-size", c.image_size, "folder: data: resize and center-crop to this size")->check(positive());
  app->add_flag("--flip", c.random_flip, "random horizontal flips (Ho et al. on CIFAR-10)");
  app->add_option("--device", c.device, "cpu or cuda")->capture_default_str();
  c.precision = "auto";  // the tool's default; the library's is fp32, and a new run records what auto chose
  add_precision_flag(*app, c.precision);
  auto* dist_timeout = app->add_option("--dist-timeout", f->dist_timeout,
                                       "multi-process runs (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): "
                                       "seconds to wait for the other ranks before stopping with an error (at most a week)")
                           ->capture_default_str()->check(positive(7 * 24 * 3600.0));
  for (auto* o : app->get_options())
    if (o != resume && o != dist_timeout && o->get_name() != "--steps" && o->get_name() != "--help") o->excludes(resume);
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
