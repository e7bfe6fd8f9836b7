// `ddpm train`, `info` and `schedule` as a user runs them: the README's folder command, the U-Net's shape
// flags, a custom schedule from a file, and the training settings recorded in config.json.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/image_read.h"
#include "ddpm/io/safetensors.h"

namespace {

std::string fresh(const std::string& name) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_train_" + name;
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  return dir;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

bool one_error_line(const std::string& out) {
  return out.rfind("error: ", 0) == 0 && std::count(out.begin(), out.end(), '\n') == 1;
}

}  // namespace

// The README's "folder of your own images" command, on four small RGB pictures for one step: the
// `fashion` preset builds at 32x32 RGB with its attention at 8x8, and `info` shows that network first.
TEST(CliTrain, ReadmeFolderCommandWithFashionPresetAt32) {
  const auto dir = fresh("folder");
  std::filesystem::create_directories(dir + "/images");
  for (int i = 0; i < 4; ++i)
    ddpm::write_png(dir + "/images/" + std::to_string(i) + ".png",
                    torch::randint(0, 256, {3, 40, 36}, torch::kLong).to(torch::kUInt8));
  const std::string data = "--data folder:" + dir + "/images --image-size 32 --preset fashion";
  auto info = run_cli("info " + data + " --json", true);
  ASSERT_EQ(info.status, 0) << info.out;
  const auto unet = nlohmann::json::parse(info.out)["config"]["unet"];
  EXPECT_EQ(unet["in_channels"], 3);
  EXPECT_EQ(unet["image_height"], 32);
  EXPECT_EQ(unet["attention_resolutions"], nlohmann::json({8}));
  auto train = run_cli("train " + data + " --flip --out " + dir + "/run --steps 1 --batch 2 --sample-every 0", true);
  ASSERT_EQ(train.status, 0) << train.out;
  EXPECT_EQ(read_json(dir + "/run/config.json")["model"]["unet"], unet);
  // The learning rate a run gets without --lr: the fashion design's 2e-3; from --init weights, Ho et al.'s 2e-4
  // (the network no longer comes from a preset); --lr as given.
  EXPECT_EQ(read_json(dir + "/run/config.json")["lr"], 2e-3);
  train = run_cli("train --data folder:" + dir + "/images --image-size 32 --init " + dir + "/run --out " + dir +
                  "/more --steps 1 --batch 2 --sample-every 0", true);
  ASSERT_EQ(train.status, 0) << train.out;
  EXPECT_EQ(read_json(dir + "/more/config.json")["lr"], 2e-4);
  train = run_cli("train " + data + " --lr 5e-4 --out " + dir + "/given --steps 1 --batch 2 --sample-every 0", true);
  ASSERT_EQ(train.status, 0) << train.out;
  EXPECT_EQ(read_json(dir + "/given/config.json")["lr"], 5e-4);
}

TEST(CliTrain, UNetShapeFlags) {
  auto r = run_cli("info --preset fashion --channels 64 --channel-mult 1,2 --res-blocks 1 --attention-res 14 "
                   "--dropout 0 --json", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto u = nlohmann::json::parse(r.out)["config"]["unet"];
  EXPECT_EQ(u["base_channels"], 64);
  EXPECT_EQ(u["channel_mult"], nlohmann::json({1, 2}));
  EXPECT_EQ(u["num_res_blocks"], 1);
  EXPECT_EQ(u["attention_resolutions"], nlohmann::json({14}));
  EXPECT_EQ(u["dropout"], 0.0);
  EXPECT_EQ(run_cli("info").status, 2);                             // nothing to describe
  EXPECT_EQ(run_cli("info --model fashion --channels 64").status, 2);  // a saved model's shape is its own
  EXPECT_EQ(run_cli("info --preset fashion --channel-mult 0").status, 2);
  r = run_cli("info --preset mlp-2d --channels 8", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  r = run_cli("info --preset fashion --attention-res 5", true);  // no level of that size
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
}

// --betas-file means the custom schedule, whose T is the file's count; another -T is refused in one line.
TEST(CliTrain, CustomScheduleFromAFile) {
  const auto dir = fresh("betas");
  const auto betas = dir + "/betas.txt";
  std::ofstream(betas) << "0.01\n0.02\n0.03\n";
  auto r = run_cli("schedule --betas-file " + betas + " --json");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["timesteps"], 3);
  r = run_cli("schedule --betas-file " + betas + " -T 5", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_NE(r.out.find("'" + betas + "' holds 3 betas, but timesteps is 5"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("schedule --schedule linear --betas-file " + betas).status, 2);

  r = run_cli("train --data gmm:two-modes --betas-file " + betas + " --steps 2 --batch 16 --out " + dir + "/run", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto schedule = read_json(dir + "/run/config.json")["schedule"];
  EXPECT_EQ(schedule["kind"], "custom");
  EXPECT_EQ(schedule["timesteps"], 3);
  EXPECT_EQ(schedule["betas"], nlohmann::json({0.01, 0.02, 0.03}));  // the run no longer needs the file
  std::ofstream(betas) << "0.5\n";
  EXPECT_EQ(run_cli("train --resume " + dir + "/run --steps 3").status, 0);
  EXPECT_EQ(run_cli("train --data gmm:two-modes --schedule custom -T 4 --betas-file " + betas + " --out " + dir + "/bad").status, 1);
}

// Every training setting lands in config.json and the checkpoints, and --resume keeps them (the decay's
// end included) while --steps moves only the stop.
TEST(CliTrain, TrainingSettingsAreRecordedAndKept) {
  const auto dir = fresh("settings");
  const std::string run = dir + "/run";
  auto r = run_cli("train --data gmm:two-modes --steps 4 --batch 16 --accumulate 2 --lr-schedule cosine "
                   "--weight-decay 0.01 --grad-clip 0 --ema-warmup power --warmup 2 --out " + run, true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto c = read_json(run + "/config.json");
  EXPECT_EQ(c["accumulate"], 2);
  EXPECT_EQ(c["lr_schedule"], "cosine");
  EXPECT_EQ(c["lr_decay_end"], 4);
  EXPECT_EQ(c["weight_decay"], 0.01);
  EXPECT_EQ(c["grad_clip"], 0.0);
  EXPECT_EQ(c["ema_warmup"], "power");
  EXPECT_EQ(c["lr"], 2e-4);  // the MLP's default: Ho et al.'s
  ASSERT_EQ(run_cli("train --resume " + run + " --steps 6").status, 0);
  const auto state = read_json(run + "/checkpoints/step-00000006/state.json");
  EXPECT_EQ(state["config"]["lr_decay_end"], 4);
  EXPECT_EQ(state["config"]["steps"], 6);
  EXPECT_EQ(state["config"]["accumulate"], 2);
  EXPECT_EQ(run_cli("train --data gmm:two-modes --lr-schedule step --out " + dir + "/bad").status, 2);
  EXPECT_EQ(run_cli("train --data gmm:two-modes --ema-warmup linear --out " + dir + "/bad").status, 2);
  EXPECT_EQ(run_cli("train --resume " + run + " --accumulate 4").status, 2);
}

// A class-conditional run from the command line: trained on the mixture's components, shown by `info`, sampled
// by class with guidance; the wrong class, guidance for an unconditional model and a dropout without classes are
// each one error line (or a usage error).
TEST(CliTrain, ConditionalTrainInfoAndSampleByClass) {
  const auto dir = fresh("conditional");
  auto r = run_cli("--threads 1 train --data gmm:two-modes --conditional --label-dropout 0.2 --steps 20 --batch 64 "
                   "--checkpoint-every 0 --out " + dir + "/run", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(read_json(dir + "/run/config.json")["model"]["class_names"], nlohmann::json({"0", "1"}));
  r = run_cli("info --model " + dir + "/run");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("classes: 0 0, 1 1; 2 none"), std::string::npos) << r.out;
  r = run_cli("sample --model " + dir + "/run --class 1,none --n 3 --guidance 2 --sampler ddim --steps 10 --out " + dir + "/s.csv", true);
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream csv(dir + "/s.csv");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(csv), std::istreambuf_iterator<char>(), '\n'), 6);  // 3 per class
  r = run_cli("sample --model " + dir + "/run --class 7 --out " + dir + "/t.csv", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_NE(r.out.find("unknown class \"7\""), std::string::npos) << r.out;

  r = run_cli("--threads 1 train --data gmm:two-modes --steps 2 --batch 16 --checkpoint-every 0 --out " + dir + "/plain", true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("sample --model " + dir + "/plain --guidance 1 --out " + dir + "/u.csv", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_EQ(run_cli("train --data gmm:two-modes --label-dropout 0.5 --out " + dir + "/x").status, 2);
  r = run_cli("train --data points:" + dir + "/s.csv --conditional --steps 1 --batch 2 --out " + dir + "/y", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/y"));
}

// `ddpm plot RUN`: the curves of a run as RUN/metrics.png (replaced each time); a half-written last line (a run
// writing now) is left out; a broken record or a folder without a log is one error line naming it.
TEST(CliTrain, PlotDrawsTheRunsCurves) {
  const auto dir = fresh("plot");
  auto r = run_cli("--threads 1 train --data gmm:two-modes --steps 30 --batch 32 --log-every 5 --checkpoint-every 0 "
                   "--out " + dir + "/run", true);
  ASSERT_EQ(r.status, 0) << r.out;
  { std::ofstream(dir + "/run/metrics.jsonl", std::ios::app) << "{\"step\": 31, \"lo"; }
  for (int twice = 0; twice < 2; ++twice) {
    r = run_cli("plot " + dir + "/run", true);
    ASSERT_EQ(r.status, 0) << r.out;
  }
  const auto info = ddpm::read_image_info(dir + "/run/metrics.png");
  EXPECT_EQ(info.width, 1200);
  EXPECT_EQ(info.height, 900);
  r = run_cli("plot " + dir + "/run --out " + dir + "/run/metrics.png", true);  // an explicit --out needs --force
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;

  { std::ofstream(dir + "/run/metrics.jsonl", std::ios::app) << "\nnot json\n"; }
  r = run_cli("plot " + dir + "/run --out " + dir + "/other.png", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_NE(r.out.find("line 8 is not a metrics record"), std::string::npos) << r.out;
  r = run_cli("plot " + dir, true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
}

// metrics.jsonl's clocks: every record has wall_s and cpu_s, non-decreasing, summed over a resume; `ddpm plot --x
// cpu|wall` draws against them. A log from a ddpm without clocks is named by file and line when plotted against
// them, and a run resumed from such a log keeps none (a clock restarted at 0 would understate the run).
TEST(CliTrain, MetricsKeepTheRunsClocks) {
  const auto dir = fresh("clocks");
  const auto run = dir + "/run";
  auto r = run_cli("--threads 1 train --data gmm:two-modes --steps 20 --batch 32 --log-every 5 --checkpoint-every 10 "
                   "--out " + run, true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("--threads 1 train --resume " + run + " --steps 40", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto read_log = [&] {
    std::vector<nlohmann::json> records;
    std::ifstream in(run + "/metrics.jsonl");
    for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
    return records;
  };
  const auto records = read_log();
  ASSERT_EQ(records.size(), 9u);  // steps 1, 5, ..., 40
  double wall = 0.0, cpu = 0.0;
  for (const auto& record : records) {
    ASSERT_TRUE(record.contains("wall_s") && record.contains("cpu_s")) << record.dump();
    EXPECT_GE(record["wall_s"].get<double>(), wall) << record.dump();
    EXPECT_GE(record["cpu_s"].get<double>(), cpu) << record.dump();
    wall = record["wall_s"], cpu = record["cpu_s"];
  }
  EXPECT_GT(cpu, 0.0);
  for (const auto* x : {"cpu", "wall", "images", "step"}) {
    r = run_cli("plot " + run + " --force --x " + x, true);
    EXPECT_EQ(r.status, 0) << x << ": " << r.out;
  }
  r = run_cli("plot " + run + " " + run + " --x cpu --out " + dir + "/both.png", true);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(run_cli("plot " + run + " --x minutes").status, 2);

  // An older ddpm's log: no clocks. Plotting against them fails on its first line; resuming adds none.
  {
    std::ofstream out(run + "/metrics.jsonl", std::ios::trunc);
    for (auto record : records) {
      record.erase("wall_s"), record.erase("cpu_s");
      out << record.dump() << "\n";
    }
  }
  r = run_cli("plot " + run + " --x wall --out " + dir + "/old.png", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_NE(r.out.find("metrics.jsonl: line 1 has no \"wall_s\""), std::string::npos) << r.out;
  r = run_cli("plot " + run + " --x step --out " + dir + "/old.png", true);
  EXPECT_EQ(r.status, 0) << r.out;
  r = run_cli("--threads 1 train --resume " + run + " --steps 50", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto resumed = read_log();
  ASSERT_EQ(resumed.size(), 11u);
  for (const auto& record : resumed) EXPECT_FALSE(record.contains("cpu_s")) << record.dump();
}

// `--eval-every K`: the run measures its EMA samples every K steps (a metrics record with "eval", a progress
// note) and `ddpm plot` draws them; a run that cannot be measured (points) fails before its folder is kept.
TEST(CliTrain, EvalEveryMeasuresTheRunAsItTrains) {
  const auto dir = fresh("eval_every");
  auto r = run_cli("train --data fashion-mnist --steps 2 --batch 4 --sample-every 0 --checkpoint-every 0 --log-every 1 "
                   "--eval-every 1 --eval-n 16 --out " + dir + "/run", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("quality at step 2: FID"), std::string::npos) << r.out;
  std::ifstream log(dir + "/run/metrics.jsonl");
  int measured = 0;
  for (std::string line; std::getline(log, line);) {
    const auto record = nlohmann::json::parse(line);
    if (!record.contains("eval")) continue;
    ++measured;
    EXPECT_EQ(record["eval"]["n"], 16);
    EXPECT_GT(record["eval"]["fid"].get<double>(), record["eval"]["floor_fid"].get<double>());
  }
  EXPECT_EQ(measured, 2);
  // Measuring does not change the training: the same run unmeasured ends with the same weights, dropout included.
  r = run_cli("train --data fashion-mnist --steps 2 --batch 4 --sample-every 0 --checkpoint-every 0 --log-every 1 "
              "--out " + dir + "/unmeasured", true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto measured_weights = ddpm::read_safetensors(dir + "/run/checkpoints/step-00000002/model.safetensors").tensors;
  const auto unmeasured = ddpm::read_safetensors(dir + "/unmeasured/checkpoints/step-00000002/model.safetensors").tensors;
  ASSERT_EQ(measured_weights.size(), unmeasured.size());
  for (size_t i = 0; i < unmeasured.size(); ++i)
    EXPECT_TRUE(torch::equal(measured_weights[i].second, unmeasured[i].second)) << unmeasured[i].first;
  r = run_cli("plot " + dir + "/run", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ddpm::read_image_info(dir + "/run/metrics.png").height, 1300);
  // Two runs side by side: the measured one adds the FID, precision and recall panels; --out is required.
  r = run_cli("plot " + dir + "/run " + dir + "/unmeasured --out " + dir + "/both.png", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ddpm::read_image_info(dir + "/both.png").height, 900);
  r = run_cli("plot " + dir + "/unmeasured " + dir + "/unmeasured --out " + dir + "/loss-only.png", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ddpm::read_image_info(dir + "/loss-only.png").height, 500);
  r = run_cli("plot " + dir + "/run " + dir + "/unmeasured", true);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--out"), std::string::npos) << r.out;

  r = run_cli("train --data gmm:two-modes --steps 2 --batch 16 --eval-every 1 --out " + dir + "/points", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_error_line(r.out)) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/points"));
}
