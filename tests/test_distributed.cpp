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

#include "io/safetensors.h"
#include "temp_dir.h"
#include "training/checkpoint.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A `ddpm` process with extra environment variables (and none of torchrun's unless given); stdout and
// stderr go to `log`. Killed when destroyed, so a failing test leaves no process behind.
class CliProcess {
 public:
  CliProcess(const std::string& args, const std::map<std::string, std::string>& env, const std::string& log)
      : log_(log) {
    std::vector<std::string> argv_s = {DDPM_CLI_PATH};
    std::istringstream words(args);
    for (std::string w; words >> w;) argv_s.push_back(w);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      const std::string entry(*e);
      const auto name = entry.substr(0, entry.find('='));
      if (!env.count(name) && !is_launch_variable(name)) env_s.push_back(entry);
    }
    for (const auto& [name, value] : env) env_s.push_back(name + "=" + value);
    auto pointers = [](std::vector<std::string>& v) {
      std::vector<char*> p;
      for (auto& s : v) p.push_back(s.data());
      p.push_back(nullptr);
      return p;
    };
    auto argv = pointers(argv_s), envp = pointers(env_s);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    const int rc = posix_spawn(&pid_, argv[0], &files, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) pid_ = -1;
  }
  ~CliProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int sig) { ::kill(pid_, sig); }
  // The exit code (-1 for a signal), or nullopt while it is still running after `limit`.
  std::optional<int> wait_for(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      } else {
        if (Clock::now() > deadline) break;
        std::this_thread::sleep_for(20ms);
      }
    }
    return status_;
  }
  std::string output() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  static bool is_launch_variable(const std::string& name) {
    for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                          "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"})
      if (name == v) return true;
    return false;
  }

  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

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

TEST(Distributed, TwoRanksReproduceOneProcess) {
  ddpm::test::TempDir dir;
  const std::string single = dir.file("single"), pair = dir.file("pair"), rank1_out = dir.file("rank1-out");
  constexpr int kSteps = 40, kBatch = 64;
  CliProcess one(train_args(single, kSteps, kBatch, kSteps), {}, dir.file("single.log"));
  const int port = free_port();
  CliProcess r0(train_args(pair, kSteps, kBatch, kSteps), rank_env(0, 2, port), dir.file("r0.log"));
  // Rank 1 is given another --out: it must never touch it (rank 0 alone writes the run).
  CliProcess r1(train_args(rank1_out, kSteps, kBatch, kSteps), rank_env(1, 2, port), dir.file("r1.log"));
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
  EXPECT_NE(r0.output().find("within the 2 s --dist-timeout"), std::string::npos) << r0.output();
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

}  // namespace
