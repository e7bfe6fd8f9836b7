// Flags and inputs a user gets wrong: one line naming the flag or file, what was wanted and what was found.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cli_runner.h"

namespace {

// Exit status 2 (a usage error) with `fragment` in the output.
void expect_usage_error(const std::string& args, const std::string& fragment) {
  const auto r = run_cli(args, true);
  EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(fragment), std::string::npos) << args << "\n" << r.out;
  EXPECT_EQ(r.out.find("179769"), std::string::npos) << r.out;  // no 309-digit bound
}

}  // namespace

// NaN and infinity pass CLI11's own range checks (every comparison with NaN is false).
TEST(CliChecks, FloatFlagsMustBeFiniteAndInRange) {
  expect_usage_error("train --data gmm:two-modes --out x --lr nan", "--lr: must be a positive number, got nan");
  expect_usage_error("train --data gmm:two-modes --out x --ema-decay nan", "--ema-decay: must be a number in [0, 1)");
  expect_usage_error("train --data gmm:two-modes --out x --dist-timeout 1e300", "--dist-timeout: must be a positive number at most 604800");
  expect_usage_error("train --data gmm:two-modes --out x --dist-timeout nan", "--dist-timeout: must be a positive number");
  expect_usage_error("sample --model fashion --eta inf", "--eta: must be a number >= 0, got inf");
  expect_usage_error("schedule --beta-start nan", "--beta-start: must be a number in [0, 1)");
  expect_usage_error("train --data gmm:two-modes --out x --steps 0", "--steps: must be a positive number, got 0");
}

TEST(CliChecks, LimitsAreCheckedBeforeAnyWork) {
  expect_usage_error("schedule -T 2000000000", "--timesteps: must be a positive number at most 100000");
  expect_usage_error("--threads 100000 schedule", "--threads: must be a number >= 0 at most");
}

TEST(CliChecks, AnUnknownSubcommandIsNamed) {
  const auto r = run_cli("smaple --n 4", true);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out.rfind("error: unknown subcommand 'smaple' (one of: schedule, info, train, sample", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(", classifier, "), std::string::npos) << r.out;  // the command, not its own subcommand
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CliChecks, BadDataSpecsAreOneLine) {
  // Warmup and EMA decay given, so that no short-run note precedes the error.
  const auto train = [](const std::string& data, const std::string& out) {
    return run_cli("train --warmup 0 --ema-decay 0.9 --data " + data + " --out " + testing::TempDir() + out, true);
  };
  auto r = train("foo:bar", "/ddpm_cli_checks_foo");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "error: unknown data source 'foo' in 'foo:bar' (known: fashion-mnist, idx, mnist, cifar10, folder, "
                   "points, gmm)\n");
  // A folder or a device given as a data file says so ("no such file" before).
  r = train("points:" + testing::TempDir(), "/ddpm_cli_checks_dir");
  EXPECT_NE(r.out.find(": a folder, not a file"), std::string::npos) << r.out;
  r = train("idx:/dev/null", "/ddpm_cli_checks_dev");
  EXPECT_EQ(r.out, "error: /dev/null: a device, pipe or socket, not a file\n");
}
