// The command-line tool as a user runs it: exit codes, JSON output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Result {
  int status;
  std::string out;
};

// Runs `ddpm ARGS` with stdout captured (stderr merged when asked).
Result run_cli(const std::string& args, bool merge_stderr = false) {
  std::string cmd = std::string(DDPM_CLI_PATH) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  Result r{-1, ""};
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), got);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace

TEST(Cli, HelpListsSubcommands) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("schedule"), std::string::npos);
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
