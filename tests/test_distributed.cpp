// Data-parallel `ddpm train` as users launch it: separate processes that find each other through the
// variables torchrun sets, talking Gloo over loopback. Two ranks must reproduce one process's weights; a
// rank that dies or hangs must stop the other with an error (never a hang), and the run must resume.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_process.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/io/safetensors.h"
#include "temp_dir.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A TCP port nobody listens on right now (the kernel's choice for an ephemeral bind).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)}, {"LOCAL_RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)},
          {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(port)}};
}

// The 2-D mixture and the MLP: no dropout, so the run is a deterministic function of the seed. A short
// warm-up, so that a few steps move the weights well beyond the tolerance.
std::string train_args(const std::string& out, int steps, int batch, int checkpoint_every) {
  return "--threads 1 train --data gmm:two-modes --preset mlp-2d --warmup 5 --steps " + std::to_string(steps) + " --batch " +
         std::to_string(batch) + " --checkpoint-every " + std::to_string(checkpoint_every) +
         " --sample-every 0 --log-every 10 --out " + out;
}

std::vector<std::pair<std::string, torch::Tensor>> weights(const std::string& checkpoint, const std::string& file) {
  return ddpm::read_safetensors(checkpoint + "/" + file).tensors;
}

// max |a - b| over all tensors of two weight files with the same names.
double max_difference(const std::vector<std::pair<std::string, torch::Tensor>>& a,
                      const std::vector<std::pair<std::string, torch::Tensor>>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    worst = std::max(worst, (a[i].second - b[i].second).abs().max().item<double>());
  }
  return worst;
}

// Whether `path` exists within `limit` (polled every 20 ms): how the fault tests wait for a running group
// to reach a checkpoint before they kill or stop a rank.
bool appears_within(const std::string& path, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!std::filesystem::exists(path) && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  return std::filesystem::exists(path);
}

// Unconditional, and class-conditional: the label dropout is drawn for the global batch and sliced like t.
TEST(Distributed, TwoRanksReproduceOneProcess) {
  for (const std::string extra : {"", " --conditional --label-dropout 0.3"}) {
    SCOPED_TRACE(extra);
    ddpm::test::TempDir dir;
    const std::string single = dir.file("single"), pair = dir.file("pair"), rank1_out = dir.file("rank1-out");
    constexpr int kSteps = 40, kBatch = 64;
    CliProcess one(train_args(single, kSteps, kBatch, kSteps) + extra, {}, dir.file("single.log"));
    const int port = free_port();
    CliProcess r0(train_args(pair, kSteps, kBatch, kSteps) + extra, rank_env(0, 2, port), dir.file("r0.log"));
    // Rank 1 is given another --out: it must never touch it (rank 0 alone writes the run).
    CliProcess r1(train_args(rank1_out, kSteps, kBatch, kSteps) + extra, rank_env(1, 2, port), dir.file("r1.log"));
    ASSERT_TRUE(one.started() && r0.started() && r1.started());
    ASSERT_EQ(one.wait_for(60s), 0) << one.output();
    ASSERT_EQ(r0.wait_for(60s), 0) << r0.output();
    ASSERT_EQ(r1.wait_for(60s), 0) << r1.output();
    EXPECT_FALSE(std::filesystem::exists(rank1_out));
    EXPECT_NE(r0.output().find("batch 64 (2 ranks × 32)"), std::string::npos) << r0.output();

    const auto last_single = ddpm::latest_checkpoint(single), last_pair = ddpm::latest_checkpoint(pair);
    ASSERT_TRUE(last_single && last_pair);
    ASSERT_EQ(std::filesystem::path(*last_pair).filename(), "step-00000040");
    const auto trained = weights(*last_single, "model.safetensors");
    // Training moved the weights far more than the tolerance; the two runs agree to float rounding
    // (the gradient mean is summed in another order).
    const double moved = max_difference(trained, weights(ddpm::complete_checkpoints(single).front(), "model.safetensors"));
    EXPECT_GT(moved, 1e-3);
    EXPECT_LT(max_difference(trained, weights(*last_pair, "model.safetensors")), 1e-6);
    EXPECT_LT(max_difference(weights(*last_single, "ema.safetensors"), weights(*last_pair, "ema.safetensors")), 1e-6);
  }
}

TEST(Distributed, DeadRankStopsTheOtherAndTheRunResumes) {
  ddpm::test::TempDir dir;
  const std::string run = dir.file("run");
  const std::string args = train_args(run, 1000000, 64, 20) + " --dist-timeout 5";
  int port = free_port();
  CliProcess r0(args, rank_env(0, 2, port), dir.file("r0.log"));
  CliProcess r1(args, rank_env(1, 2, port), dir.file("r1.log"));
  ASSERT_TRUE(r0.started() && r1.started());
  ASSERT_TRUE(appears_within(run + "/checkpoints/step-00000040", 60s)) << r0.output();

  r1.signal(SIGKILL);
  const auto killed = Clock::now();
  ASSERT_EQ(r0.wait_for(10s), 1) << "rank 0 did not stop after rank 1 died";
  EXPECT_LT(Clock::now() - killed, 6s);  // the closed connection is noticed; no need to wait out the timeout
  const auto log = r0.output();
  EXPECT_NE(log.find("error: rank 0 of 2: averaging the gradients of step"), std::string::npos) << log;
  EXPECT_NE(log.find("--resume " + run), std::string::npos) << log;

  // The last checkpoint is intact, and both ranks continue from it.
  const auto last = ddpm::latest_checkpoint(run);
  ASSERT_TRUE(last);
  const int64_t step = ddpm::read_checkpoint(*last).state.at("step").get<int64_t>();
  EXPECT_GE(step, 40);
  const std::string resume = "--threads 1 train --resume " + run + " --steps " + std::to_string(step + 10);
  port = free_port();
  CliProcess again0(resume, rank_env(0, 2, port), dir.file("again0.log"));
  CliProcess again1(resume, rank_env(1, 2, port), dir.file("again1.log"));
  ASSERT_EQ(again0.wait_for(60s), 0) << again0.output();
  ASSERT_EQ(again1.wait_for(60s), 0) << again1.output();
  EXPECT_NE(again0.output().find("resuming " + run + " at step " + std::to_string(step)), std::string::npos);
  EXPECT_EQ(ddpm::read_checkpoint(*ddpm::latest_checkpoint(run)).state.at("step").get<int64_t>(), step + 10);
}

// SIGTERM to rank 0 alone: the stop travels with the step's all-reduce, so both ranks stop after the same
// step (neither waits for the other into the timeout) and rank 0 checkpoints it.
TEST(Distributed, SignalStopsEveryRankAfterTheSameStep) {
  ddpm::test::TempDir dir;
  const std::string run = dir.file("run");
  const std::string args = train_args(run, 1000000, 64, 1000000);
  const int port = free_port();
  CliProcess r0(args, rank_env(0, 2, port), dir.file("r0.log"));
  CliProcess r1(args, rank_env(1, 2, port), dir.file("r1.log"));
  ASSERT_TRUE(r0.started() && r1.started());
  const auto deadline = Clock::now() + 60s;
  while (r0.output().find("training ") == std::string::npos && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  r0.signal(SIGTERM);
  ASSERT_EQ(r0.wait_for(30s), 128 + SIGTERM) << r0.output();
  ASSERT_EQ(r1.wait_for(30s), 128 + SIGTERM) << r1.output();
  const auto stopped_at = [](const std::string& log) {
    const auto at = log.find(" at step ", log.find("stopped: "));
    return at == std::string::npos ? std::string("?") : log.substr(at + 9, log.find(':', at) - at - 9);
  };
  const auto step = stopped_at(r0.output());
  EXPECT_NE(r0.output().find("stopped: SIGTERM at step " + step), std::string::npos) << r0.output();
  EXPECT_NE(r1.output().find("stopped: a stop signal on another rank at step " + step), std::string::npos) << r1.output();
  EXPECT_EQ(std::filesystem::path(*ddpm::latest_checkpoint(run)).filename(), ddpm::checkpoint_name(std::stoll(step)));
}

TEST(Distributed, HungRankStopsTheOtherWithinTheTimeout) {
  ddpm::test::TempDir dir;
  const std::string run = dir.file("run");
  const std::string args = train_args(run, 1000000, 64, 20) + " --dist-timeout 2";
  const int port = free_port();
  CliProcess r0(args, rank_env(0, 2, port), dir.file("r0.log"));
  CliProcess r1(args, rank_env(1, 2, port), dir.file("r1.log"));
  ASSERT_TRUE(r0.started() && r1.started());
  ASSERT_TRUE(appears_within(run + "/checkpoints/step-00000020", 60s)) << r0.output();

  r1.signal(SIGSTOP);  // alive, connected, silent
  const auto stopped = Clock::now();
  ASSERT_EQ(r0.wait_for(15s), 1) << "rank 0 is still waiting for a stopped rank";
  const auto waited = Clock::now() - stopped;
  EXPECT_GT(waited, 1500ms);
  EXPECT_LT(waited, 8s);
  EXPECT_NE(r0.output().find("within the group's 2 s timeout"), std::string::npos) << r0.output();
  EXPECT_NE(r0.output().find("start every rank again with --resume " + run), std::string::npos) << r0.output();
  EXPECT_TRUE(ddpm::latest_checkpoint(run));
}

TEST(Distributed, LaunchEnvironmentErrors) {
  ddpm::test::TempDir dir;
  auto run_with = [&](std::map<std::string, std::string> env, const std::string& extra = "") {
    CliProcess p(train_args(dir.file("run"), 10, 64, 10) + extra, env, dir.file("log"));
    const auto status = p.wait_for(30s);
    return std::make_pair(status.value_or(-2), p.output());
  };
  auto [status, out] = run_with({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "29500"}});
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("error: WORLD_SIZE is set but MASTER_ADDR is not"), std::string::npos) << out;
  std::tie(status, out) = run_with(rank_env(2, 2, 29500));
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("error: RANK=2 is not an integer in [0, 1]"), std::string::npos) << out;
  // A rank whose partners never come gives up after --dist-timeout.
  std::tie(status, out) = run_with(rank_env(0, 2, free_port()), " --dist-timeout 1");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("error: rank 0 of 2: the ranks did not all meet at 127.0.0.1:"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run") + "/checkpoints"));
}

// A busy MASTER_PORT and an unknown MASTER_ADDR are named at once: before, the first waited out the whole
// --dist-timeout and the second printed c10d's log lines first.
TEST(Distributed, BusyPortAndUnknownHostAreNamedAtOnce) {
  ddpm::test::TempDir dir;
  const int port = free_port();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  CliProcess busy(train_args(dir.file("run"), 10, 64, 10) + " --dist-timeout 600", rank_env(0, 2, port), dir.file("log"));
  EXPECT_EQ(busy.wait_for(60s).value_or(-2), 1);
  EXPECT_NE(busy.output().find("MASTER_PORT " + std::to_string(port) + " on 127.0.0.1 is in use by another process"),
            std::string::npos) << busy.output();
  ::close(listener);

  auto env = rank_env(1, 2, port);
  env["MASTER_ADDR"] = "no-such-host.invalid";
  CliProcess unknown(train_args(dir.file("run2"), 10, 64, 10), env, dir.file("log2"));
  EXPECT_EQ(unknown.wait_for(60s).value_or(-2), 1);
  const auto out = unknown.output();
  EXPECT_NE(out.find("error: MASTER_ADDR 'no-such-host.invalid' does not resolve"), std::string::npos) << out;
  EXPECT_EQ(out.find("\n["), std::string::npos) << out;  // no c10d log lines ("[W socket.cpp:...")
}

}  // namespace
