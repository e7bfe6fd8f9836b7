// A checkpoint is believed only when it agrees with itself (canonical folder name; the same step in the
// name, state.json, the marker and every weights file) and with its run (config.json's digest); a run
// that ends on skipped steps is an error, not a trained model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "data_test_files.h"
#include "error_text.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/models/model_file.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/training/trainer.h"

namespace fs = std::filesystem;
using namespace ddpm;

namespace {

// A path for a new run folder, unique per test and name.
std::string fresh_dir(const std::string& name) { return ddpm_test::scratch_dir(name) + "/run"; }

TrainConfig mixture_config(int64_t steps) {
  TrainConfig c;
  c.data = "gmm:two-modes";
  c.preset = "mlp-2d";
  c.steps = steps;
  c.batch = 32;
  c.lr = 1e-3;
  c.warmup = 0;
  c.ema_decay = 0.9;
  c.sample_every = 0;
  c.checkpoint_every = 1;
  c.keep = 10;
  return c;
}

// A run of `steps` steps with a checkpoint after every one.
std::string trained_run(const std::string& name, int64_t steps) {
  const auto dir = fresh_dir(name);
  Trainer::create(mixture_config(steps), dir)->run(false);
  return dir;
}

std::string checkpoint(const std::string& run, int64_t step) {
  return (fs::path(checkpoints_dir(run)) / checkpoint_name(step)).string();
}

void edit_state(const std::string& checkpoint_dir, const std::function<void(nlohmann::json&)>& edit) {
  const auto path = checkpoint_dir + "/state.json";
  auto state = nlohmann::json::parse(read_file_bytes(path));
  edit(state);
  write_file_atomically(path, state.dump(2));
}

}  // namespace

TEST(CheckpointChecks, OnlyCanonicalNamesAreCheckpoints) {
  EXPECT_EQ(checkpoint_step("step-00000006"), 6);
  EXPECT_EQ(checkpoint_step("step-123456789"), 123456789);
  for (const char* name : {"step-6", "step--0000004", "step-+0000004", "step-0000000x", "step-", "x-00000006"})
    EXPECT_FALSE(checkpoint_step(name)) << name;

  const auto run = trained_run("canonical", 2);
  // A folder named step-6 (holding step 1) must not win over the real latest, step 2.
  fs::copy(checkpoint(run, 1), fs::path(checkpoints_dir(run)) / "step-6", fs::copy_options::recursive);
  fs::copy(checkpoint(run, 1), fs::path(checkpoints_dir(run)) / "step--0000004", fs::copy_options::recursive);
  EXPECT_EQ(latest_checkpoint(run), checkpoint(run, 2));
  EXPECT_EQ(complete_checkpoints(run).size(), 3u);
  EXPECT_NE(error_text([&] { read_checkpoint(checkpoints_dir(run) + "/step-6"); }).find("not a checkpoint folder"),
            std::string::npos);
}

TEST(CheckpointChecks, EveryFileMustBeOfTheFoldersStep) {
  const auto run = trained_run("steps", 2);
  EXPECT_NO_THROW(read_checkpoint(checkpoint(run, 2)));

  fs::copy_file(checkpoint(run, 1) + "/optimizer.safetensors", checkpoint(run, 2) + "/optimizer.safetensors",
                fs::copy_options::overwrite_existing);
  auto error = error_text([&] { read_checkpoint(checkpoint(run, 2)); });
  EXPECT_NE(error.find("optimizer.safetensors (metadata ddpm.step) says step 1, but the folder is step 2"),
            std::string::npos) << error;

  fs::copy_file(checkpoint(run, 1) + "/ema.safetensors", checkpoint(run, 0) + "/ema.safetensors",
                fs::copy_options::overwrite_existing);
  error = error_text([&] { read_checkpoint(checkpoint(run, 0)); });
  EXPECT_NE(error.find("ema.safetensors"), std::string::npos) << error;

  // "step": -6 in the state of step 1 (it once trained "steps -5..8").
  edit_state(checkpoint(run, 1), [](nlohmann::json& s) { s["step"] = -6; });
  error = error_text([&] { read_checkpoint(checkpoint(run, 1)); });
  EXPECT_NE(error.find("state.json says step -6, but the folder is step 1"), std::string::npos) << error;
}

TEST(CheckpointChecks, ResumeRefusesAnEditedOrMissingConfig) {
  const auto run = trained_run("config", 1);
  const auto config_path = run + "/config.json";
  const auto original = read_file_bytes(config_path);
  auto edited = nlohmann::json::parse(original);
  edited["lr"] = 0.5;
  write_file_atomically(config_path, edited.dump(2) + "\n");
  auto error = error_text([&] { Trainer::resume(run, 3); });
  EXPECT_NE(error.find(config_path + "' was changed after the run started"), std::string::npos) << error;

  fs::remove(config_path);
  error = error_text([&] { Trainer::resume(run, 3); });
  EXPECT_NE(error.find(config_path + "' is missing"), std::string::npos) << error;

  write_file_atomically(config_path, original);  // restored: the run resumes
  auto trainer = Trainer::resume(run, 3);
  EXPECT_EQ(trainer->step(), 1);
}

// config.json is written before the step-0 checkpoint (every checkpoint carries its digest): a creation
// killed between the two left only config.json, which holds nothing to keep, so the folder is reused.
TEST(CheckpointChecks, ConfigWithoutACheckpointIsAKilledCreation) {
  const auto run = fresh_dir("killed");
  fs::create_directories(run);
  write_file_atomically(run + "/config.json", "{}\n");
  auto trainer = Trainer::create(mixture_config(1), run);
  EXPECT_EQ(complete_checkpoints(run).size(), 1u);
  EXPECT_NE(read_file_bytes(run + "/config.json"), "{}\n");
}

// A state.json field of the wrong type is one error naming the checkpoint, not a bare JSON exception.
TEST(CheckpointChecks, BadStateFieldsNameTheCheckpoint) {
  const auto run = trained_run("state_types", 1);
  edit_state(checkpoint(run, 1), [](nlohmann::json& s) { s["ema_updates"] = "many"; });
  const auto error = error_text([&] { Trainer::resume(run, 3); });
  EXPECT_EQ(error.rfind("cannot resume from checkpoint '" + checkpoint(run, 1) + "': state.json:", 0), 0u) << error;
}

// --lr 1e30: step 1 throws the weights to ±1e30, every later step overflows and is skipped; a run that
// ends so is an error (it exited 0 before, printing step 1's loss as current).
TEST(CheckpointChecks, ARunEndingOnSkippedStepsIsAnError) {
  auto config = mixture_config(3);
  config.lr = 1e30;
  const auto error = error_text([&] { Trainer::create(config, fresh_dir("lr"))->run(false); });
  EXPECT_NE(error.find("training ended at step 3 on 2 skipped steps in a row"), std::string::npos) << error;

  // --init from weights of 1e30: all three steps skipped.
  const auto source = ddpm_test::scratch_dir("huge_init") + "/huge.safetensors";
  auto net = build_model(model_preset("mlp-2d"));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.fill_(1e30);
  }
  save_model(source, *net, model_preset("mlp-2d"));
  config = mixture_config(3);
  config.init = source;
  config.preset.clear();
  const auto init_error = error_text([&] { Trainer::create(config, fresh_dir("init"))->run(false); });
  EXPECT_NE(init_error.find("training ended at step 3 on 3 skipped steps in a row (3 skipped in all)"),
            std::string::npos) << init_error;
}

TEST(CheckpointChecks, ConfigFieldsMustBeFiniteAndInRange) {
  const auto expect_refused = [](const std::function<void(TrainConfig&)>& edit, const std::string& field) {
    auto config = mixture_config(1);
    edit(config);
    const auto error = error_text([&] { check_train_config(config); });
    EXPECT_EQ(error.rfind(field + " must be", 0), 0u) << error;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  expect_refused([&](TrainConfig& c) { c.lr = nan; }, "lr");
  expect_refused([&](TrainConfig& c) { c.lr = inf; }, "lr");
  expect_refused([&](TrainConfig& c) { c.ema_decay = nan; }, "ema_decay");
  expect_refused([&](TrainConfig& c) { c.ema_decay = 1.0; }, "ema_decay");
  expect_refused([&](TrainConfig& c) { c.grad_clip = -1; }, "grad_clip");
  expect_refused([&](TrainConfig& c) { c.keep = 0; }, "keep");
  expect_refused([&](TrainConfig& c) { c.warmup = -1; }, "warmup");
  EXPECT_NO_THROW(check_train_config(mixture_config(1)));
}
