// The command-line tool as a user runs it: exit codes, JSON output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <cstdio>
#include <string>

#include "cli_runner.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/version.h"


TEST(Cli, HelpListsSubcommands) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("schedule"), std::string::npos);
}

// The version comes from CMake's project(VERSION), so the tool and the build cannot disagree.
TEST(Cli, VersionIsTheProjectVersion) {
  auto r = run_cli("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind(std::string("ddpm ") + DDPM_VERSION + " (LibTorch ", 0), 0u) << r.out;
}

TEST(Cli, BadFlagIsAUsageError) {
  EXPECT_EQ(run_cli("schedule --no-such-flag").status, 2);
  EXPECT_EQ(run_cli("no-such-command").status, 2);
  EXPECT_EQ(run_cli("schedule --schedule bogus").status, 2);
  EXPECT_EQ(run_cli("").status, 2);
  auto r = run_cli("schedule --timesteps -5", true);
  EXPECT_EQ(r.status, 2);
}

TEST(Cli, ScheduleJson) {
  auto r = run_cli("schedule --schedule linear --timesteps 1000 --json");
  ASSERT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schedule"], "linear");
  EXPECT_EQ(j["timesteps"], 1000);
  EXPECT_DOUBLE_EQ(j["beta_first"].get<double>(), 1e-4);
  EXPECT_NEAR(j["beta_last"].get<double>(), 0.02, 1e-15);
  EXPECT_NEAR(j["alpha_bar_last"].get<double>() / 4.0358e-5, 1.0, 1e-4);
  EXPECT_EQ(j["betas"].size(), 1000u);
  EXPECT_EQ(j["alphas_cumprod"].size(), 1000u);
  EXPECT_EQ(j["posterior_variance"].size(), 1000u);
  EXPECT_EQ(j["posterior_variance"][0].get<double>(), 0.0);
}

TEST(Cli, RuntimeErrorIsOneLineAndExitOne) {
  auto r = run_cli("schedule --schedule custom", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

// The main job end to end on a small problem: train (Algorithm 1) on the built-in mixture, resume, inspect,
// sample (Algorithm 2) — and the errors a user meets on the way.
TEST(Cli, TrainResumeInfoSample) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_run";
  std::system(("rm -rf " + dir).c_str());
  auto train = run_cli("train --data gmm:two-modes --out " + dir + " --steps 30 --batch 128 --checkpoint-every 10", true);
  ASSERT_EQ(train.status, 0) << train.out;
  // Training into an existing run is refused (never overwrites it); resuming a missing run is an error.
  EXPECT_EQ(run_cli("train --data gmm:two-modes --out " + dir + " --steps 30").status, 1);
  EXPECT_EQ(run_cli("train --resume " + dir + "-missing --steps 40").status, 1);
  EXPECT_EQ(run_cli("train --resume " + dir + " --batch 3").status, 2);  // --resume takes the run's own config
  EXPECT_EQ(run_cli("train --resume " + dir + " --precision bf16").status, 2);  // and computes as it began
  // The default, auto, is recorded as what it chose: fp32 for the point MLP on every machine.
  std::ifstream config_file(dir + "/config.json");
  EXPECT_EQ(nlohmann::json::parse(config_file)["precision"], "fp32");
  auto resume = run_cli("train --resume " + dir + " --steps 40", true);
  ASSERT_EQ(resume.status, 0) << resume.out;
  EXPECT_NE(resume.out.find("resuming"), std::string::npos);

  auto info = run_cli("info --model " + dir + " --json");
  ASSERT_EQ(info.status, 0);
  auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["step"], 40);
  EXPECT_EQ(j["parameters"], 41858);
  EXPECT_NE(j["ema_weights"].get<std::string>().find("step-00000040/ema.safetensors"), std::string::npos);
  EXPECT_NE(j["weights"].get<std::string>().find("step-00000040/model.safetensors"), std::string::npos);

  const std::string csv = dir + "/samples.csv";
  auto sample = run_cli("sample --model " + dir + " --n 50 --steps 20 --out " + csv, true);
  ASSERT_EQ(sample.status, 0) << sample.out;
  std::ifstream in(csv);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 1) << line;  // 2-D points
  }
  EXPECT_EQ(rows, 50);
  EXPECT_EQ(run_cli("sample --model " + dir + " --n 5 --out " + dir + "/x.png").status, 1);  // points are not images
  EXPECT_EQ(run_cli("sample --model " + dir + "/nothing.safetensors --n 5 --out " + csv).status, 1);
  EXPECT_EQ(run_cli("sample --model " + dir + " --n 5 --steps 5000 --out " + dir + "/more.csv").status, 1);  // more steps than T
}

// Non-finite steps (here from data whose values overflow the network) are skipped and reported; K in a
// row (--max-bad-steps) end the run with one error line and exit 1, the step-0 checkpoint kept.
TEST(Cli, NonFiniteStepsStopWithOneErrorLine) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_nan";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  {
    std::ofstream csv(dir + "/huge.csv");
    for (int i = 0; i < 16; ++i) csv << "3e38,3e38\n";
  }
  auto r = run_cli("train --data points:" + dir + "/huge.csv --preset mlp-2d --batch 8 --steps 20 --max-bad-steps 2 "
                   "--out " + dir + "/run", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("step 1: non-finite loss or gradient, step skipped"), std::string::npos) << r.out;
  const auto error = r.out.find("error: training stopped at step 2: 2 non-finite");
  EXPECT_NE(error, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n', error), r.out.size() - 1) << r.out;  // the error is the last line, and one line
  EXPECT_EQ(r.out.find("error: "), error) << r.out;                 // and the only error
  EXPECT_EQ(run_cli("info --model " + dir + "/run --json").status, 0);  // the step-0 checkpoint is intact
}

// The README's main job on a small budget: the shipped model sampled both ways, with the summary naming
// every file it wrote.
TEST(Cli, DemoWritesPicturesAndSummary) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_demo";
  std::system(("rm -rf " + dir).c_str());
  auto demo = run_cli("demo --out " + dir + " --grid 4 --ddim-steps 2 --ancestral-n 2 --ancestral-steps 3 --no-gmm", true);
  ASSERT_EQ(demo.status, 0) << demo.out;
  std::ifstream summary(dir + "/summary.md");
  const std::string text((std::istreambuf_iterator<char>(summary)), std::istreambuf_iterator<char>());
  for (const std::string file : {"samples-ddim.png", "samples-ancestral.png", "trajectory.png"}) {
    EXPECT_TRUE(std::ifstream(dir + "/" + file).good()) << file;
    EXPECT_NE(text.find(file), std::string::npos) << file;
  }
  // The conditional model by default: one row per class (4 per class rounds down to 1: the classes side by side).
  EXPECT_NE(text.find("one per class, guidance 0.5"), std::string::npos) << text;
  EXPECT_EQ(run_cli("demo --out " + dir + " --model no-such-model --no-gmm").status, 1);
  EXPECT_EQ(run_cli("demo --out " + dir + "2 --model fashion --guidance 1 --no-gmm").status, 1);  // no classes to guide
}

// `ddpm export` writes a model file that loads by itself, and never replaces an existing file unasked.
TEST(Cli, ExportRefusesToOverwrite) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_export";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  const std::string file = dir + "/m.safetensors";
  ASSERT_EQ(run_cli("export --model fashion --out " + file).status, 0);
  auto info = run_cli("info --model " + file + " --json");
  ASSERT_EQ(info.status, 0);
  EXPECT_EQ(nlohmann::json::parse(info.out)["parameters"], 1623169);
  std::ofstream(dir + "/keep.safetensors") << "precious";
  EXPECT_EQ(run_cli("export --model fashion --out " + dir + "/keep.safetensors").status, 1);
  std::ifstream kept(dir + "/keep.safetensors");
  std::string content;
  kept >> content;
  EXPECT_EQ(content, "precious");
  EXPECT_EQ(run_cli("export --model fashion --out " + dir + "/keep.safetensors --force").status, 0);
}

// `ddpm info` takes a shipped model by name like `sample` and `demo` do; an unknown name is an error.
TEST(Cli, InfoTakesShippedModelByName) {
  auto info = run_cli("info --model fashion --json");
  ASSERT_EQ(info.status, 0);
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["parameters"], 1623169);
  EXPECT_GT(j["step"].get<int64_t>(), 0);
  EXPECT_EQ(run_cli("info --model no-such-model").status, 1);
}

// `ddpm bench --quick --json` runs the whole benchmark (a smoke run, not a measurement) in fp32, and in bf16
// where the CPU has it natively:
// every figure is present, finite and positive, throughputs are derived from the counted FLOPs, a network
// evaluation is one sample (a batched call at batch B is B of them), and a quick run's peak is too brief to
// give an MFU (null, where a quick peak once gave MFU 2.95); cuda on a build or machine without it is one
// clear error.
TEST(Cli, BenchQuickJson) {
  auto r = run_cli("--threads 1 bench --quick --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["preset"], "fashion");
  EXPECT_FALSE(j["torch_version"].get<std::string>().empty());
  const auto positive = [](const nlohmann::json& v) { return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0; };
  EXPECT_TRUE(positive(j["peak_memory_mb"])) << j["peak_memory_mb"];
  const double flops = j["forward_flops_per_sample"].get<double>();
  ASSERT_EQ(j["runs"].size(), ddpm::has_native_bf16(torch::kCPU) ? 2u : 1u);  // bf16 where it is native
  EXPECT_EQ(j["runs"][0]["precision"], "fp32");
  if (j["runs"].size() == 2) EXPECT_EQ(j["runs"][1]["precision"], "bf16");
  for (const auto& run : j["runs"]) {
    EXPECT_TRUE(positive(run["peak_gflops"])) << run["peak_gflops"];
    const auto& train = run["train"];
    EXPECT_EQ(train["batch"], 64);
    for (const char* key : {"images_per_s", "gflops"}) EXPECT_TRUE(positive(train[key])) << key << " " << train[key];
    EXPECT_TRUE(train["mfu"].is_null()) << train["mfu"];
    EXPECT_NEAR(train["gflops"].get<double>(), 3 * flops * 1e-9 * train["images_per_s"].get<double>(), 1e-9);
    ASSERT_EQ(run["sample"].size(), 3u);
    const std::array<int64_t, 3> batches = {1, 16, 256};
    for (size_t i = 0; i < batches.size(); ++i) {
      const auto& s = run["sample"][i];
      EXPECT_EQ(s["batch"], batches[i]);
      for (const char* key : {"calls_per_s", "evaluations_per_s", "gflops"}) EXPECT_TRUE(positive(s[key])) << key << " " << s[key];
      EXPECT_TRUE(s["mfu"].is_null()) << s["mfu"];
      EXPECT_DOUBLE_EQ(s["evaluations_per_s"].get<double>(), batches[i] * s["calls_per_s"].get<double>());
      EXPECT_NEAR(s["gflops"].get<double>(), flops * 1e-9 * s["evaluations_per_s"].get<double>(), 1e-9);
    }
  }
  auto text = run_cli("--threads 1 bench --quick --precision fp32");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("MFU -"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("bf16"), std::string::npos) << text.out;
  EXPECT_EQ(run_cli("bench --quick --precision fp16").status, 2);
}

// --twin runs bench/pytorch_fashion.py in the same run and divides by its figures; a missing script is one
// error line before any work. The twin needs Debian's python3-torch, an optional dependency.
TEST(Cli, BenchTwin) {
  auto missing = run_cli("bench --quick --twin /nonexistent/twin.py", true);
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "error: twin benchmark '/nonexistent/twin.py': no such file\n");
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3-torch";
  auto r = run_cli("--threads 1 bench --quick --precision fp32 --json --twin " DDPM_SOURCE_DIR "/bench/pytorch_fashion.py");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto& run = j["runs"][0];
  EXPECT_EQ(j["twin"]["parameters"], j["parameters"]);  // the same network
  EXPECT_DOUBLE_EQ(run["over_twin"]["train"].get<double>(),
                   run["train"]["images_per_s"].get<double>() / j["twin"]["train"]["images_per_s"].get<double>());
  ASSERT_EQ(run["over_twin"]["sample"].size(), 3u);
  EXPECT_EQ(run["over_twin"]["sample"][1]["batch"], 16);
  EXPECT_DOUBLE_EQ(run["over_twin"]["sample"][1]["ratio"].get<double>(),
                   run["sample"][1]["calls_per_s"].get<double>() / j["twin"]["sample"][1]["calls_per_s"].get<double>());
}

TEST(Cli, MissingCudaIsOneLineError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible";
  for (const char* args : {"bench --device cuda --quick", "sample --model fashion --n 1 --device cuda --out /dev/null"}) {
    auto r = run_cli(args, true);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(r.out, "error: device 'cuda': this LibTorch build has no CUDA, or no GPU is visible\n") << args;
  }
  EXPECT_EQ(run_cli("bench --device tpu --quick").status, 1);
}

// Help texts: flags without CLI11's "{false}" default marks, "exactly one of" said once, shipped model
// names offered where a model is asked for.
TEST(Cli, HelpTexts) {
  for (const char* command : {"demo", "gmm", "sample", "train", "eval", "info"}) {
    const auto help = run_cli(std::string(command) + " --help");
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_EQ(help.out.find("{false}"), std::string::npos) << command << "\n" << help.out;
  }
  std::string info = run_cli("info --help").out;
  std::transform(info.begin(), info.end(), info.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t exactly = 0;
  for (auto at = info.find("exactly"); at != std::string::npos; at = info.find("exactly", at + 1)) ++exactly;
  EXPECT_LE(exactly, 1u) << info;  // said at most once (CLI11's option group used to repeat it)
  EXPECT_NE(run_cli("sample --help").out.find("a shipped model's name (fashion"), std::string::npos);
}

// `sample` states its cost in network evaluations (per sample, the same unit as `demo`) before it starts,
// writes JPEG for .jpg, refuses an unknown extension before sampling, and takes Langevin's knobs only
// with Langevin.
TEST(Cli, SampleCostFormatsAndLangevinKnobs) {
  const std::string dir = testing::TempDir() + "/ddpm_cli_sample_formats";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  auto bad = run_cli("--threads 1 sample --model fashion --n 1 --out " + dir + "/x.bmp", true);
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_EQ(bad.out, "error: cannot write '" + dir + "/x.bmp': expected a name ending in .png or .jpg or .jpeg\n");
  EXPECT_EQ(run_cli("sample --model fashion --langevin-steps 2 --out " + dir + "/x.png").status, 2);
  EXPECT_EQ(run_cli("sample --model fashion --sampler langevin --langevin-snr 0.1 --langevin-epsilon 1e-5").status, 2);

  auto jpeg = run_cli("--threads 1 sample --model fashion --n 2 --batch 1 --sampler langevin --steps 2 --langevin-steps 2 "
                      "--langevin-snr 0.16 --precision bf16 --out " + dir + "/x.jpg", true);
  ASSERT_EQ(jpeg.status, 0) << jpeg.out;
  EXPECT_NE(jpeg.out.find("sampling 2 with langevin (2 noise levels x 2 steps + a denoising step; 10 network "
                          "evaluations in 10 batched calls; bf16)"), std::string::npos) << jpeg.out;
  EXPECT_NE(jpeg.out.find("sampling: batched calls 10/10 (100%)"), std::string::npos) << jpeg.out;
  std::ifstream in(dir + "/x.jpg", std::ios::binary);
  std::array<unsigned char, 3> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), 3);
  EXPECT_EQ(magic, (std::array<unsigned char, 3>{0xFF, 0xD8, 0xFF}));
}
