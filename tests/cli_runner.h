// Runs the built `ddpm` tool as a user would, for the CLI tests: exit status and captured output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

struct CliResult {
  int status;       // the exit code (-1 if the tool did not exit normally)
  std::string out;  // stdout, with stderr merged when asked
};

// Runs a shell command line with stdout captured.
inline CliResult run_shell(const std::string& cmd) {
  CliResult r{-1, ""};
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), got);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `ddpm ARGS` with stdout captured (stderr merged when asked, else discarded).
inline CliResult run_cli(const std::string& args, bool merge_stderr = false) {
  return run_shell(std::string(DDPM_CLI_PATH) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"));
}
