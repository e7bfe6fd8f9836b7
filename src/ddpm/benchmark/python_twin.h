// The Python twin of the benchmark: bench/pytorch_fashion.py, the `fashion` U-Net in PyTorch eager mode,
// timed as `ddpm bench` times (see docs/PERFORMANCE.md). `ddpm bench --twin SCRIPT` runs it in the same
// window as its own figures, so that their ratio compares like with like on a shared machine. It needs
// Debian's python3-torch, an optional dependency of this measurement only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ddpm {

struct TwinRun {
  double train_images_per_s = 0;           // batch 64
  std::vector<int64_t> sample_batches;     // 1, 16, 256
  std::vector<double> sample_calls_per_s;  // at those batches
};

struct TwinFigures {
  std::string torch_version;
  TwinRun fp32;
  std::optional<TwinRun> autocast_bf16;  // PyTorch 2 only: its CPU autocast cannot run the network on 1.13
  nlohmann::json report;                 // the script's whole JSON report
};

// Throws std::invalid_argument if `script` is not a file: checked before the benchmark's own minutes.
void check_python_twin(const std::string& script);

// Runs `/usr/bin/python3 SCRIPT --json --threads N [--quick]`. Throws std::invalid_argument if the script
// is not a file, std::runtime_error naming it if it fails (no python3-torch) or prints no valid report.
TwinFigures run_python_twin(const std::string& script, int threads, bool quick);

}  // namespace ddpm
