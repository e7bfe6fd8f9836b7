// The trainer: falling loss, exact resume, the non-finite stop, checkpoints that are complete or absent.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ddpm/core/random.h"
#include "file_size_limit.h"
#include "tiny_unet_run.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/model_file.h"
#include "ddpm/training/new_run.h"
#include "ddpm/training/stop_signal.h"
#include "ddpm/training/trainer.h"

namespace fs = std::filesystem;
using namespace ddpm;
using ddpm_test::tiny_unet_config;
using ddpm_test::write_idx_images;

namespace {

std::string fresh_dir(const std::string& name) {
  auto dir = fs::path(testing::TempDir()) / ("ddpm_trainer_" + name);
  fs::remove_all(dir);
  return dir.string();
}

// Two 2-D clusters, 512 points, as CSV. The first `huge_rows` rows are (3e38, 3e38) instead: finite, so
// the reader accepts them, but the network's output overflows float32 on them, so any batch holding one
// has an infinite loss (NaN injected through the data, as a corrupt data set would).
std::string write_points(const std::string& name, int64_t huge_rows = 0) {
  const auto path = (fs::path(testing::TempDir()) / (name + ".csv")).string();
  auto gen = make_generator(99);
  auto x = torch::randn({512, 2}, gen, torch::kFloat64) * 0.2;
  x.slice(0, 0, 256).add_(torch::tensor({-1.0, 0.0}, torch::kFloat64));
  x.slice(0, 256).add_(torch::tensor({1.0, 0.5}, torch::kFloat64));
  std::ofstream out(path);
  for (int64_t i = 0; i < 512; ++i) {
    if (i < huge_rows) out << "3e38,3e38\n";
    else out << x[i][0].item<double>() << "," << x[i][1].item<double>() << "\n";
  }
  return path;
}

TrainConfig points_config(const std::string& csv, int64_t steps) {
  TrainConfig c;
  c.data = "points:" + csv;
  c.preset = "mlp-2d";
  c.steps = steps;
  c.batch = 64;
  c.seed = 7;
  c.lr = 1e-3;
  c.warmup = 5;
  c.ema_decay = 0.9;
  c.sample_every = 0;
  c.checkpoint_every = 0;
  c.log_every = 10;
  return c;
}

void expect_identical(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
}

void train_steps(Trainer& trainer, int64_t until) {
  while (trainer.step() < until) trainer.train_step();
}

}  // namespace

TEST(Trainer, LossFallsOnPoints) {
  auto trainer = Trainer::create(points_config(write_points("fall"), 300), fresh_dir("fall"));
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    auto s = trainer->train_step();
    ASSERT_FALSE(s.skipped);
    // 64 uniform t leave a quarter of 1..T empty with probability 4·(3/4)^64 ≈ 4e-8.
    for (double q : s.loss_by_quarter) ASSERT_TRUE(std::isfinite(q)) << "step " << i;
    if (i < 30) first += s.loss / 30;
    if (i >= 270) last += s.loss / 30;
  }
  // At initialisation ε_θ ≈ 0 so the loss is E‖ε‖²/d ≈ 1; a trained MLP predicts most of ε on 2-D data.
  EXPECT_GT(first, 0.6);
  EXPECT_LT(last, 0.75 * first);
}

// Training 2k steps in one go and k steps + resume to 2k give bit-identical weights, EMA included, with the
// training settings at their defaults (U-Net, in fp32 and in bf16) and away from them (MLP).
TEST(Trainer, ResumeIsBitExact) {
  std::vector<torch::Tensor> unet_fp32;  // the U-Net trained in fp32: bf16 must train another one
  for (const auto& [unet, precision] : std::vector<std::pair<bool, std::string>>{{false, "fp32"}, {true, "fp32"}, {true, "bf16"}}) {
    SCOPED_TRACE(precision);
    const auto data = unet ? write_idx_images("resume") : write_points("resume");
    auto config = unet ? tiny_unet_config(data, 12) : points_config(data, 40);
    config.precision = precision;
    if (!unet) {  // every training setting that has state or varies with the step, away from its default
      config.accumulate = 2, config.lr_schedule = "cosine", config.weight_decay = 0.01;
      config.ema_warmup = "power", config.grad_clip = 0.5;
    }
    const int64_t half = config.steps / 2;
    auto straight = Trainer::create(config, fresh_dir("straight"), !unet);
    train_steps(*straight, config.steps);
    EXPECT_EQ(straight->config().precision, precision);
    if (unet && precision == "fp32") unet_fp32 = straight->model().parameters();
    if (unet && precision == "bf16") EXPECT_FALSE(torch::equal(unet_fp32.front(), straight->model().parameters().front()));

    const auto dir = fresh_dir("split");
    {
      auto first = Trainer::create(config, dir, !unet);
      train_steps(*first, half);
      first->save_checkpoint();
    }
    auto resumed = Trainer::resume(dir, std::nullopt);
    ASSERT_EQ(resumed->step(), half);
    EXPECT_EQ(resumed->config().precision, precision);
    train_steps(*resumed, config.steps);
    expect_identical(straight->model(), resumed->model());
    expect_identical(straight->ema_model(), resumed->ema_model());
    // The progress line's moving average of the loss continues too (it once restarted on resume).
    EXPECT_EQ(straight->loss_average().value, resumed->loss_average().value);
    EXPECT_TRUE(std::isfinite(resumed->loss_average().value));
  }
}

// A class-conditional run resumes as exactly: the label dropout is drawn with t and ε, the labels come with the
// batch order, and micro-batches slice them like the examples.
TEST(Trainer, ConditionalResumeIsBitExact) {
  auto config = points_config("", 30);
  config.data = "gmm:two-modes";
  config.conditional = true;
  config.label_dropout = 0.3;
  config.accumulate = 2;
  auto straight = Trainer::create(config, fresh_dir("cond_straight"));
  EXPECT_EQ(straight->config().model.class_names, (std::vector<std::string>{"0", "1"}));
  train_steps(*straight, config.steps);
  const auto dir = fresh_dir("cond_split");
  {
    auto first = Trainer::create(config, dir);
    train_steps(*first, 15);
    first->save_checkpoint();
  }
  auto resumed = Trainer::resume(dir, std::nullopt);
  EXPECT_TRUE(resumed->config().conditional);
  train_steps(*resumed, config.steps);
  expect_identical(straight->model(), resumed->model());
  expect_identical(straight->ema_model(), resumed->ema_model());
}

// Label dropout 1 trains only the null label's row of the class embedding, dropout 0 never touches it: the
// rows that no example reaches keep their initial values exactly (with no weight decay, the default, Adam does not
// move a parameter whose gradient has always been zero).
TEST(Trainer, LabelDropoutDecidesWhichClassRowsTrain) {
  for (const double dropout : {0.0, 1.0}) {
    SCOPED_TRACE(dropout);
    auto config = points_config("", 5);
    config.data = "gmm:two-modes";
    config.conditional = true;
    config.label_dropout = dropout;
    auto trainer = Trainer::create(config, fresh_dir("dropout"));
    const auto initial = trainer->model().named_parameters()["class_embedding.weight"].clone();
    train_steps(*trainer, config.steps);
    const auto now = trainer->model().named_parameters()["class_embedding.weight"];
    const bool classes_same = torch::equal(now.slice(0, 0, 2), initial.slice(0, 0, 2));
    const bool null_same = torch::equal(now[2], initial[2]);
    EXPECT_EQ(classes_same, dropout == 1.0);
    EXPECT_EQ(null_same, dropout == 0.0);
  }
}

TEST(Trainer, ConditionalNeedsLabels) {
  auto config = points_config(write_points("nolabels"), 5);
  config.conditional = true;
  try {
    Trainer::create(config, fresh_dir("nolabels"));
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("has no class labels"), std::string::npos) << e.what();
  }
}

// The control that proves the test above can fail: weights alone (no optimizer/EMA/RNG state) diverge.
TEST(Trainer, ResumeWithWeightsOnlyDiverges) {
  auto config = points_config(write_points("control"), 40);
  auto straight = Trainer::create(config, fresh_dir("control_a"));
  train_steps(*straight, 40);
  auto partial = Trainer::create(config, fresh_dir("control_b"));
  train_steps(*partial, 20);
  // A fresh trainer with different RNG and Adam state, given the step-20 weights.
  auto restart = Trainer::create(config, fresh_dir("control_c"));
  {
    torch::NoGradGuard no_grad;
    auto dst = restart->model().parameters();
    auto src = partial->model().parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  train_steps(*restart, 20);
  bool any_diff = false;
  auto a = straight->model().parameters();
  auto b = restart->model().parameters();
  for (size_t i = 0; i < a.size(); ++i) any_diff |= !torch::equal(a[i], b[i]);
  EXPECT_TRUE(any_diff);
}

TEST(Trainer, NonFiniteStepsAreSkippedThenStop) {
  auto config = points_config(write_points("nan"), 100);
  config.max_bad_steps = 3;
  auto trainer = Trainer::create(config, fresh_dir("nan"));
  train_steps(*trainer, 5);
  auto before = trainer->model().parameters()[0].clone();
  auto ema_before = trainer->ema_model().parameters()[0].clone();
  trainer->loss_hook = [](const torch::Tensor& loss, int64_t step) {
    return step >= 6 ? loss * std::numeric_limits<double>::quiet_NaN() : loss;
  };
  auto s6 = trainer->train_step();
  EXPECT_TRUE(s6.skipped);
  EXPECT_TRUE(torch::equal(before, trainer->model().parameters()[0]));      // weights untouched
  EXPECT_TRUE(torch::equal(ema_before, trainer->ema_model().parameters()[0]));  // EMA untouched
  trainer->train_step();
  try {
    trainer->train_step();
    FAIL() << "the third non-finite step in a row must stop training";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step 8"), std::string::npos) << e.what();
  }
  EXPECT_EQ(trainer->skipped_steps(), 3);
}

// One bad row among 512 with batch 64: each epoch's 8 batches hold it exactly once, so 16 steps skip 2.
// A skipped step leaves weights and EMA untouched; the count reaches progress, metrics.jsonl and the checkpoint.
TEST(Trainer, NonFiniteDataStepsAreSkippedAndCounted) {
  const auto csv = write_points("nandata", 1);
  auto trainer = Trainer::create(points_config(csv, 16), fresh_dir("nandata"));
  int64_t skipped = 0;
  for (int i = 0; i < 16; ++i) {
    const auto before = trainer->model().parameters()[0].clone();
    const auto ema_before = trainer->ema_model().parameters()[0].clone();
    const auto s = trainer->train_step();
    EXPECT_EQ(s.skipped, !std::isfinite(s.loss)) << "step " << s.step;
    EXPECT_EQ(s.skipped, torch::equal(before, trainer->model().parameters()[0])) << "step " << s.step;
    EXPECT_EQ(s.skipped, torch::equal(ema_before, trainer->ema_model().parameters()[0])) << "step " << s.step;
    skipped += s.skipped;
  }
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(trainer->skipped_steps(), 2);

  const auto dir = fresh_dir("nandata_run");
  auto run = Trainer::create(points_config(csv, 16), dir);
  run->run(false);
  EXPECT_EQ(read_checkpoint(*latest_checkpoint(dir)).state.at("skipped_total"), 2);
  std::ifstream metrics(fs::path(dir) / "metrics.jsonl");
  std::string line;
  int64_t skipped_lines = 0, last_total = -1;
  while (std::getline(metrics, line)) {
    const auto j = nlohmann::json::parse(line);
    skipped_lines += j.at("skipped").get<bool>();
    last_total = j.at("skipped_total").get<int64_t>();
  }
  EXPECT_EQ(skipped_lines, 2);
  EXPECT_EQ(last_total, 2);
}

// Data that is bad everywhere: max_bad_steps non-finite steps in a row stop the run with one error, and the
// last good checkpoint (step 0) is kept and resumable.
TEST(Trainer, NonFiniteDataStopsTheRunKeepingTheLastCheckpoint) {
  auto config = points_config(write_points("nanstop", 512), 50);
  config.max_bad_steps = 3;
  const auto dir = fresh_dir("nanstop");
  auto trainer = Trainer::create(config, dir);
  try {
    trainer->run(false);
    FAIL() << "three non-finite steps in a row must stop training";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step 3: 3 non-finite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(trainer->skipped_steps(), 3);
  ASSERT_EQ(complete_checkpoints(dir).size(), 1u);
  trainer.reset();  // the run folder's owner; resuming needs it gone
  EXPECT_EQ(Trainer::resume(dir, std::nullopt)->step(), 0);
}

// Pinned values of the first steps: the warm-up's step s trains at lr·s/warmup (step 1 at lr/warmup, not
// 2/warmup), and the EMA's n-th update (n = s - 1 before it) uses min(decay, (1 + n)/(10 + n)).
TEST(Trainer, WarmupAndEmaDecayOfTheFirstSteps) {
  auto config = points_config(write_points("warmup"), 8);  // lr 1e-3, warmup 5, EMA decay 0.9
  auto trainer = Trainer::create(config, fresh_dir("warmup"));
  const double lr[] = {2e-4, 4e-4, 6e-4, 8e-4, 1e-3, 1e-3, 1e-3, 1e-3};
  const double ema[] = {1.0 / 10, 2.0 / 11, 3.0 / 12, 4.0 / 13, 5.0 / 14, 6.0 / 15, 7.0 / 16, 8.0 / 17};
  for (int i = 0; i < 8; ++i) {
    const auto s = trainer->train_step();
    EXPECT_NEAR(s.lr, lr[i], 1e-15) << "step " << s.step;
    EXPECT_NEAR(s.ema_decay, ema[i], 1e-15) << "step " << s.step;
  }
}

// A run's schedules depend on the step and on values fixed at its start, never on the total that --resume
// changes: 20 steps, then resumed to 40, is the 40-step run bit for bit. With a decay, its end stays where
// the run started it.
TEST(Trainer, ExtendedRunIsTheSameRun) {
  const auto data = write_points("extend");
  auto straight = Trainer::create(points_config(data, 40), fresh_dir("extend_straight"));
  train_steps(*straight, 40);
  const auto dir = fresh_dir("extend_split");
  {
    auto first = Trainer::create(points_config(data, 20), dir);
    train_steps(*first, 20);
    first->save_checkpoint();
  }
  auto extended = Trainer::resume(dir, 40);
  EXPECT_EQ(extended->config().steps, 40);
  train_steps(*extended, 40);
  expect_identical(straight->model(), extended->model());
  expect_identical(straight->ema_model(), extended->ema_model());

  auto cosine = points_config(data, 20);
  cosine.lr_schedule = "cosine";
  const auto cosine_dir = fresh_dir("extend_cosine");
  Trainer::create(cosine, cosine_dir);
  EXPECT_EQ(Trainer::resume(cosine_dir, 40)->config().lr_decay_end, 20);
}

// Gradient accumulation: 4 micro-batches of 16 train as one batch of 64 (the same data order, t and ε),
// to float rounding; a plain batch of 16 is the control that differs.
TEST(Trainer, AccumulatedMicroBatchesEqualOneLargerBatch) {
  const auto data = write_points("accumulate");
  auto run = [&](int64_t batch, int64_t accumulate, const std::string& name) {
    auto config = points_config(data, 5);
    config.batch = batch;
    config.accumulate = accumulate;
    auto trainer = Trainer::create(config, fresh_dir(name));
    std::vector<double> losses;
    while (trainer->step() < 5) {
      const auto s = trainer->train_step();
      EXPECT_EQ(s.batch, batch * accumulate);
      losses.push_back(s.loss);
    }
    return std::make_pair(std::move(trainer), losses);
  };
  auto [whole, whole_losses] = run(64, 1, "acc_whole");
  auto [micro, micro_losses] = run(16, 4, "acc_micro");
  auto [small, small_losses] = run(16, 1, "acc_small");
  for (size_t i = 0; i < whole_losses.size(); ++i) EXPECT_NEAR(micro_losses[i], whole_losses[i], 1e-6) << "step " << i + 1;
  auto pw = whole->model().parameters(), pm = micro->model().parameters(), ps = small->model().parameters();
  double control = 0.0;
  for (size_t i = 0; i < pw.size(); ++i) {
    // Five Adam steps of at most lr = 1e-3 each; float32 sums in another order differ by ~1e-7 relative.
    EXPECT_TRUE(torch::allclose(pm[i], pw[i], 1e-4, 1e-6)) << "parameter " << i;
    control = std::max(control, (ps[i] - pw[i]).abs().max().item<double>());
  }
  EXPECT_GT(control, 1e-5);
}

// AdamW's decoupled decay: one step with weight decay w differs from one without by exactly -lr₁·w·θ₀
// (the Adam update is the same: it does not see the decay).
TEST(Trainer, WeightDecayIsDecoupled) {
  const auto data = write_points("decay");
  auto config = points_config(data, 1);
  auto plain = Trainer::create(config, fresh_dir("decay_plain"));
  config.weight_decay = 0.5;
  auto decayed = Trainer::create(config, fresh_dir("decay_decayed"));
  std::vector<torch::Tensor> initial;
  for (const auto& p : decayed->model().parameters()) initial.push_back(p.detach().clone());
  plain->train_step();
  const double lr1 = decayed->train_step().lr;
  auto pp = plain->model().parameters(), pd = decayed->model().parameters();
  double largest = 0.0;
  for (size_t i = 0; i < pp.size(); ++i) {
    const auto diff = pd[i] - pp[i];
    EXPECT_TRUE(torch::allclose(diff, -lr1 * 0.5 * initial[i], 0.0, 5e-7)) << "parameter " << i;  // float32 rounding
    largest = std::max(largest, diff.abs().max().item<double>());
  }
  EXPECT_GT(largest, 1e-5);
}

// Regression (fuzz/fuzz_config): a float where an integer belongs (1e300) was cast with undefined
// behaviour; configs and model configs now refuse it with an error naming the field.
TEST(TrainConfigJson, FloatForAnIntegerFieldIsAnError) {
  nlohmann::json config = TrainConfig{};
  config["steps"] = 1e300;
  try {
    (void)config.get<TrainConfig>();
    ADD_FAILURE() << "accepted steps = 1e300";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("config: steps must be an integer"), std::string::npos) << e.what();
  }
  nlohmann::json model = model_preset("fashion");
  model["unet"]["channel_mult"] = {1, 2.5};
  EXPECT_THROW((void)model.get<ModelConfig>(), std::invalid_argument);
  model = model_preset("fashion");
  model["unet"]["base_channels"] = -1e300;
  EXPECT_THROW((void)model.get<ModelConfig>(), std::invalid_argument);
  config = TrainConfig{};
  EXPECT_EQ(config.get<TrainConfig>().steps, TrainConfig{}.steps);  // integers still read
}

// Every training setting survives config.json; a run written before a setting existed reads the behaviour
// it had (no accumulation, constant rate, no weight decay, the ratio EMA warm-up).
TEST(TrainConfigJson, TrainingSettingsRoundTrip) {
  TrainConfig c;
  c.accumulate = 3, c.lr_schedule = "cosine", c.lr_decay_end = 77, c.weight_decay = 0.01, c.ema_warmup = "power";
  c.grad_clip = 0.0, c.unet_shape.base_channels = 64, c.unet_shape.attention_resolutions = std::vector<int64_t>{8};
  c.schedule.kind = "custom", c.schedule.betas = {0.1, 0.2};
  const nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<TrainConfig>()), j);
  EXPECT_EQ(j["unet_shape"], nlohmann::json({{"base_channels", 64}, {"attention_resolutions", {8}}}));
  auto old = j;
  for (const auto* key : {"accumulate", "lr_schedule", "lr_decay_end", "weight_decay", "ema_warmup", "unet_shape"}) old.erase(key);
  const auto read = old.get<TrainConfig>();
  EXPECT_EQ(read.accumulate, 1);
  EXPECT_EQ(read.lr_schedule, "constant");
  EXPECT_EQ(read.weight_decay, 0.0);
  EXPECT_EQ(read.ema_warmup, "ratio");
  EXPECT_TRUE(read.unet_shape.empty());
}

TEST(Trainer, NeverCheckpointsNonFiniteWeights) {
  auto trainer = Trainer::create(points_config(write_points("nanckpt"), 10), fresh_dir("nanckpt"));
  {
    torch::NoGradGuard no_grad;
    trainer->model().parameters()[0].fill_(std::numeric_limits<float>::infinity());
  }
  EXPECT_THROW(trainer->save_checkpoint(), std::runtime_error);
}

TEST(Trainer, ResumeErrors) {
  EXPECT_THROW(Trainer::resume(fresh_dir("missing"), std::nullopt), std::invalid_argument);
  const auto dir = fresh_dir("incomplete");
  fs::create_directories(fs::path(dir) / "checkpoints" / "step-00000010");  // no COMPLETE marker
  EXPECT_THROW(Trainer::resume(dir, std::nullopt), ActionableError);
  // An existing run is never silently overwritten by a new one.
  const auto csv = write_points("exists");
  const auto run = fresh_dir("exists");
  Trainer::create(points_config(csv, 5), run);
  EXPECT_THROW(Trainer::create(points_config(csv, 5), run), ActionableError);
}

// --init: a new run starts from a trained model's weights (network and EMA alike), takes its network
// and schedule, and records where they came from; weights for another sample shape are refused.
TEST(Trainer, InitStartsFromTheGivenWeights) {
  const auto csv = write_points("init");
  const auto source = fresh_dir("init_source");
  auto first = Trainer::create(points_config(csv, 20), source);
  train_steps(*first, 20);
  first->save_checkpoint();
  const auto trained = load_trained_model(source);

  auto config = points_config(csv, 40);
  config.preset.clear();
  config.model.mlp.hidden = 7;  // replaced by the network stored with the weights
  config.schedule.timesteps = 50;
  config.init = source;
  const auto dir = fresh_dir("init_target");
  auto second = Trainer::create(config, dir, /*choose_model=*/false);
  EXPECT_EQ(second->config().model.mlp.hidden, trained.config.mlp.hidden);
  EXPECT_EQ(second->config().schedule.timesteps, 1000);
  EXPECT_EQ(second->config().init, trained.path);
  expect_identical(second->ema_model(), *trained.net);
  auto start = load_trained_model(dir, /*raw=*/true);  // the network being trained, as of step 0
  expect_identical(*start.net, *trained.net);
  // The run stands on its own: resuming it never reads the weights it started from again.
  second.reset();
  fs::remove_all(source);
  EXPECT_EQ(Trainer::resume(dir, std::nullopt)->step(), 0);
  // A random initialisation of the same network differs, so the comparisons above can fail.
  config.init.clear();
  config.model = trained.config;
  auto fresh = Trainer::create(config, fresh_dir("init_none"), false);
  EXPECT_FALSE(torch::equal(fresh->ema_model().parameters()[0], trained.net->parameters()[0]));

  // Weights for 8x8 images cannot start a run on 2-D points.
  auto unet = tiny_unet_config(write_idx_images("init_unet"), 1);
  const auto unet_dir = fresh_dir("init_unet");
  Trainer::create(unet, unet_dir, false);
  config.init = unet_dir;
  try {
    Trainer::create(config, fresh_dir("init_mismatch"));
    ADD_FAILURE() << "started a run on points from a U-Net's weights";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("the network takes samples of shape [1, 8, 8], the data's are [2]"),
              std::string::npos) << e.what();
  }
}

// A model file counts the steps of its whole --init chain (ddpm.lineage_steps) beside its own run's
// (ddpm.step): 20 steps, then 7 from those weights, then 3 from those, is 30 in all.
TEST(Trainer, ModelFilesCarryTheStepsOfTheirLineage) {
  const auto csv = write_points("lineage");
  std::string source;
  int64_t total = 0;
  for (const int64_t steps : {20, 7, 3}) {
    auto config = points_config(csv, steps);
    config.init = source;
    const auto dir = fresh_dir("lineage_" + std::to_string(steps));
    auto trainer = Trainer::create(config, dir, source.empty());
    EXPECT_EQ(trainer->config().init_steps, total);
    train_steps(*trainer, steps);
    trainer->save_checkpoint();
    total += steps;
    for (const bool raw : {false, true}) {
      const auto model = load_trained_model(dir, raw);
      EXPECT_EQ(model.step, steps);
      EXPECT_EQ(model.lineage_steps, total);
    }
    source = dir;
  }
  // A resumed run keeps its lineage (config.json carries it).
  auto resumed = Trainer::resume(source, 5);
  train_steps(*resumed, 5);
  resumed->save_checkpoint();
  EXPECT_EQ(load_trained_model(source).lineage_steps, total + 2);
}

TEST(Checkpoint, PartialFolderNeverCountsAndOldOnesArePruned) {
  const auto csv = write_points("ckpt");
  const auto dir = fresh_dir("ckpt");
  auto config = points_config(csv, 30);
  config.keep = 2;
  auto trainer = Trainer::create(config, dir);  // writes step 0
  for (int k = 1; k <= 3; ++k) {
    train_steps(*trainer, 10 * k);
    trainer->save_checkpoint();
  }
  auto all = complete_checkpoints(dir);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(fs::path(all.back()).filename(), "step-00000030");
  // A partially written checkpoint (as after a kill) and a folder without the marker are ignored.
  const auto ckpts = fs::path(checkpoints_dir(dir));
  fs::create_directories(ckpts / ".step-00000040.partial");
  std::ofstream(ckpts / ".step-00000040.partial" / "model.safetensors") << "garbage";
  fs::create_directories(ckpts / "step-00000050");
  EXPECT_EQ(fs::path(*latest_checkpoint(dir)).filename(), "step-00000030");
  trainer.reset();  // the run folder's owner; resuming needs it gone
  auto resumed = Trainer::resume(dir, 35);
  EXPECT_EQ(resumed->step(), 30);
  // The model file in a checkpoint loads on its own, with its schedule.
  auto model = load_trained_model(dir);
  EXPECT_EQ(model.step, 30);
  EXPECT_EQ(model.schedule.T, 1000);
  EXPECT_EQ(model.config.arch, "mlp");
}

// A creation killed before its step-0 checkpoint was complete leaves only a .partial folder: the same
// --out then starts the run afresh instead of refusing a folder that can be neither resumed nor reused.
TEST(Checkpoint, CreationKilledBeforeFirstCheckpointIsRestartable) {
  const auto dir = fresh_dir("killed_create");
  const auto partial = fs::path(checkpoints_dir(dir)) / ".step-00000000.partial";
  fs::create_directories(partial);
  std::ofstream(partial / "model.safetensors") << "cut";
  EXPECT_THROW(Trainer::resume(dir, std::nullopt), ActionableError);
  auto trainer = Trainer::create(points_config(write_points("killed_create"), 5), dir);
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "config.json"));
  EXPECT_EQ(complete_checkpoints(dir).size(), 1u);
}

// A write that fails (here: a file-size limit, as a full disk would) keeps the previous checkpoint intact.
TEST(Checkpoint, FailedWriteKeepsPreviousCheckpoint) {
  const auto dir = fresh_dir("fsize");
  auto trainer = Trainer::create(points_config(write_points("fsize"), 10), dir);
  train_steps(*trainer, 5);
  {
    test::FileSizeLimit full(4096);
    EXPECT_THROW(trainer->save_checkpoint(), std::runtime_error);
  }
  trainer.reset();  // the run folder's owner; resuming needs it gone
  EXPECT_EQ(fs::path(*latest_checkpoint(dir)).filename(), "step-00000000");
  EXPECT_EQ(complete_checkpoints(dir).size(), 1u);
  auto resumed = Trainer::resume(dir, std::nullopt);
  EXPECT_EQ(resumed->step(), 0);
}

// One process owns a run folder: a second trainer on it, resumed or new, is refused naming the holder, and
// the folder is left as it was; once the first is gone, the run resumes.
TEST(RunFolder, SecondOwnerIsRefused) {
  const auto csv = write_points("owner");
  const auto dir = fresh_dir("owner");
  auto first = Trainer::create(points_config(csv, 10), dir);
  const auto holder = "in use by another ddpm process (pid " + std::to_string(::getpid()) + ")";
  for (const bool resume : {true, false}) {
    try {
      if (resume) Trainer::resume(dir, std::nullopt);
      else Trainer::create(points_config(csv, 10), dir);
      ADD_FAILURE() << "a second trainer took a run folder in use";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(holder), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(complete_checkpoints(dir).size(), 1u);
  first.reset();
  EXPECT_EQ(Trainer::resume(dir, std::nullopt)->step(), 0);
}

// A start that fails leaves no folder it created; a folder that was there before stays.
TEST(RunFolder, FailedStartLeavesNoFolder) {
  const auto dir = fresh_dir("failed_start");
  const auto missing = points_config((fs::path(testing::TempDir()) / "no-such-points.csv").string(), 5);
  EXPECT_THROW(Trainer::create(missing, dir), std::exception);
  EXPECT_FALSE(fs::exists(dir));
  fs::create_directories(dir);
  EXPECT_THROW(Trainer::create(missing, dir), std::exception);
  EXPECT_TRUE(fs::is_directory(dir));
}

// A run whose checkpoints are all incomplete (a damaged copy) can be neither resumed nor created again;
// discard_unresumable_run (`train --out RUN --force`) starts it over, and never touches a resumable run.
TEST(RunFolder, UnresumableRunStartsOverOnRequest) {
  const auto csv = write_points("start_over");
  const auto dir = fresh_dir("start_over");
  Trainer::create(points_config(csv, 5), dir);
  for (const auto& checkpoint : complete_checkpoints(dir)) fs::remove(fs::path(checkpoint) / "COMPLETE");
  try {
    Trainer::resume(dir, std::nullopt);
    ADD_FAILURE() << "resumed a run without a complete checkpoint";
  } catch (const ActionableError& e) {
    EXPECT_EQ(e.remedy(), Remedy::start_run_over);
    EXPECT_EQ(e.subject(), dir);
  }
  EXPECT_THROW(Trainer::create(points_config(csv, 5), dir), ActionableError);
  discard_unresumable_run(dir);
  Trainer::create(points_config(csv, 5), dir);
  EXPECT_EQ(complete_checkpoints(dir).size(), 1u);
  EXPECT_THROW(discard_unresumable_run(dir), ActionableError);
  EXPECT_EQ(complete_checkpoints(dir).size(), 1u);
}

// SIGINT in the middle of a step: the step is finished, checkpointed, and Interrupted thrown; resuming
// from that checkpoint gives the weights of a run never interrupted, bit for bit.
TEST(Trainer, SignalStopsAfterTheStepWithACheckpoint) {
  const auto config = points_config(write_points("signal"), 12);
  auto straight = Trainer::create(config, fresh_dir("signal_straight"));
  straight->run(false);
  const auto dir = fresh_dir("signal");
  {
    auto trainer = Trainer::create(config, dir);
    trainer->loss_hook = [](const torch::Tensor& loss, int64_t step) {
      if (step == 5) std::raise(SIGINT);
      return loss;
    };
    try {
      trainer->run(false);
      ADD_FAILURE() << "training went on after SIGINT";
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.exit_status(), 128 + SIGINT);
      EXPECT_EQ(e.remedy(), Remedy::resume_run);
      EXPECT_EQ(e.subject(), dir);
    }
    EXPECT_EQ(trainer->step(), 5);
  }
  EXPECT_EQ(fs::path(*latest_checkpoint(dir)).filename(), "step-00000005");
  auto resumed = Trainer::resume(dir, std::nullopt);
  resumed->run(false);
  expect_identical(straight->model(), resumed->model());
  expect_identical(straight->ema_model(), resumed->ema_model());
}

// A second signal does not wait for the step: the process ends at once, 128 + the signal, no checkpoint.
TEST(TrainerDeathTest, SecondSignalEndsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child re-runs the binary: LibTorch's threads and fork do not mix
  const auto config = points_config(write_points("signal_twice"), 12);
  const auto dir = fresh_dir("signal_twice");
  EXPECT_EXIT(
      {
        auto trainer = Trainer::create(config, dir);
        trainer->loss_hook = [](const torch::Tensor& loss, int64_t step) {
          if (step == 3) {
            std::raise(SIGTERM);
            std::raise(SIGTERM);
          }
          return loss;
        };
        trainer->run(false);
      },
      testing::ExitedWithCode(128 + SIGTERM), "");
  EXPECT_EQ(fs::path(*latest_checkpoint(dir)).filename(), "step-00000000");
}
