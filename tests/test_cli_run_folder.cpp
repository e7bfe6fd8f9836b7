// A run folder as processes see it: one `ddpm train` owns it (a second, new or --resume, is refused
// naming the holder and changes nothing); SIGTERM and SIGINT end training with a checkpoint of the step
// and exit 143 / 130; kill -9 leaves no stale lock behind.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "cli_process.h"
#include "cli_runner.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/io/run_folder.h"
#include "temp_dir.h"

namespace {

using namespace std::chrono_literals;

// Training that runs until stopped, a metrics line per step.
std::string endless_training(const std::string& run) {
  return "--threads 1 train --data gmm:two-modes --preset mlp-2d --batch 64 --steps 100000000 --checkpoint-every 0 "
         "--sample-every 0 --log-every 1 --out " + run;
}

// Waits until the process has printed `text` (or ended, or 60 s passed).
bool prints_within(CliProcess& process, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (process.output().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline || process.wait_for(0ms)) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace

TEST(CliRunFolder, OneOwnerSignalsAndKill) {
  ddpm::test::TempDir dir;
  const auto run = dir.file("run");
  CliProcess first(endless_training(run), {}, dir.file("first.log"));
  ASSERT_TRUE(prints_within(first, "training ")) << first.output();
  const auto metrics = run + "/metrics.jsonl";
  for (int i = 0; i < 3000 && std::filesystem::file_size(metrics) < 20; ++i) std::this_thread::sleep_for(20ms);
  const auto metrics_start = ddpm::read_file_bytes(metrics).substr(0, 20);

  // A second process, resuming or starting anew, is refused with one line naming the holder.
  const auto holder = "in use by another ddpm process (pid " + std::to_string(first.pid()) + ")";
  for (const auto& args : {"train --resume " + run + " --steps 5", endless_training(run)}) {
    const auto r = run_cli(args, true);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(holder), std::string::npos) << r.out;
  }
  // The live run's log was not truncated under it.
  EXPECT_EQ(ddpm::read_file_bytes(metrics).substr(0, 20), metrics_start);

  // SIGTERM: the current step is finished and checkpointed, exit 143.
  first.signal(SIGTERM);
  ASSERT_EQ(first.wait_for(30s), 143) << first.output();
  std::smatch m;
  const auto log = first.output();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("stopped: SIGTERM at step ([0-9]+)"))) << log;
  const int64_t step = std::stoll(m[1]);
  EXPECT_GT(step, 0);
  const auto latest = ddpm::latest_checkpoint(run);
  ASSERT_TRUE(latest);
  EXPECT_EQ(std::filesystem::path(*latest).filename(), ddpm::checkpoint_name(step));

  // SIGINT on the resumed run: exit 130, then kill -9 on the next: the lock dies with the process.
  CliProcess second("--threads 1 train --resume " + run + " --steps 100000000", {}, dir.file("second.log"));
  ASSERT_TRUE(prints_within(second, "training ")) << second.output();
  second.signal(SIGINT);
  ASSERT_EQ(second.wait_for(30s), 130) << second.output();
  EXPECT_NE(second.output().find("stopped: SIGINT at step "), std::string::npos) << second.output();
  CliProcess third("--threads 1 train --resume " + run + " --steps 100000000", {}, dir.file("third.log"));
  ASSERT_TRUE(prints_within(third, "training ")) << third.output();
  third.signal(SIGKILL);
  third.wait_for(30s);
  const auto after = ddpm::read_checkpoint(*ddpm::latest_checkpoint(run)).state.at("step").get<int64_t>();
  const auto r = run_cli("train --resume " + run + " --steps " + std::to_string(after + 2), true);
  EXPECT_EQ(r.status, 0) << r.out;
}
