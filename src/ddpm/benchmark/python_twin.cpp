#include "ddpm/benchmark/python_twin.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace ddpm {
namespace {

// `text` as one single-quoted shell word.
std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The figures of one precision of the report: its "train" and "sample" entries.
TwinRun twin_run(const nlohmann::json& j) {
  TwinRun run;
  run.train_images_per_s = j.at("train").at("images_per_s").get<double>();
  for (const auto& s : j.at("sample")) {
    run.sample_batches.push_back(s.at("batch").get<int64_t>());
    run.sample_calls_per_s.push_back(s.at("calls_per_s").get<double>());
  }
  return run;
}

}  // namespace

void check_python_twin(const std::string& script) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(script, ec))
    throw std::invalid_argument(fmt::format("twin benchmark '{}': no such file", script));
}

TwinFigures run_python_twin(const std::string& script, int threads, bool quick) {
  check_python_twin(script);
  // Debian's interpreter, where python3-torch lives (a virtual environment's python3 may lack it).
  // An absolute path: a script named "-x" is not read as an option.
  const auto command = fmt::format("/usr/bin/python3 {} --json --threads {}{}",
                                   shell_quoted(std::filesystem::absolute(script).string()), threads,
                                   quick ? " --quick" : "");
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error(fmt::format("twin benchmark '{}': cannot start /usr/bin/python3", script));
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = pclose(pipe);
  if (status == -1) throw std::runtime_error(fmt::format("twin benchmark '{}': {}", script, std::strerror(errno)));
  if (WIFSIGNALED(status))
    throw std::runtime_error(fmt::format("twin benchmark '{}' was killed by signal {}", script, WTERMSIG(status)));
  if (WEXITSTATUS(status) == 127) throw std::runtime_error("twin benchmark: no /usr/bin/python3");
  if (WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("twin benchmark '{}' failed (exit {}): it needs Debian's python3-torch "
                                         "(apt-get install python3-torch)",
                                         script, WEXITSTATUS(status)));
  TwinFigures twin;
  try {
    twin.report = nlohmann::json::parse(out);
    twin.torch_version = twin.report.at("torch_version").get<std::string>();
    twin.fp32 = twin_run(twin.report);
    const auto autocast = twin.report.value("autocast_bf16", nlohmann::json());
    if (!autocast.is_null()) twin.autocast_bf16 = twin_run(autocast);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("twin benchmark '{}': not a benchmark report ({})", script, e.what()));
  }
  return twin;
}

}  // namespace ddpm
