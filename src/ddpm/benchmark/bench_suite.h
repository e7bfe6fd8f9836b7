// `ddpm bench`: the whole benchmark in one run, in the paper's units and as a fraction of the measured
// hardware peak (MFU = achieved GFLOP/s / matrix-product peak GFLOP/s of the same precision). FLOPs come
// from the architecture (forward_flops_per_sample); a training step counts 3× the forward (forward, and
// backward's two products). Each precision asked for is measured in turn, in the same run, so that their
// figures compare.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ddpm/benchmark/matmul_peak.h"
#include "ddpm/benchmark/op_profile.h"
#include "ddpm/benchmark/python_twin.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

struct BenchOptions {
  std::string device = "cpu";
  std::string preset;          // "" = fashion on CPU, cifar10 on CUDA (the sizes its targets name)
  int64_t train_batch = 0;     // 0 = 64 on CPU, 128 on CUDA
  std::vector<int64_t> sample_batches = {1, 16, 256};
  bool quick = false;          // fewer repeats and a small peak: a smoke test, not a measurement (so no MFU)
  bool profile = false;        // also the operators of one training step and of sampling at each batch
  // fp32 | bf16 | auto (as train and sample would choose); none given: fp32, and bf16 where the device has
  // it natively (emulated bf16 would only take minutes to say it is slow)
  std::vector<std::string> precisions;
  std::string twin;  // bench/pytorch_fashion.py, run after ddpm's figures (fashion on the CPU only); "" = none
};

struct TrainFigures {
  int64_t batch = 0;
  double images_per_s = 0, steps_per_s = 0, gflops = 0;
  double mfu = 0;  // NaN from a quick run: its small peak is below the real one, so the ratio can pass 1
  std::vector<OpTime> profile;
};

struct SampleFigures {
  int64_t batch = 0;
  double calls_per_s = 0;        // batched network calls (one reverse step of the whole batch) per second
  double evaluations_per_s = 0;  // network evaluations (one sample through the network) per second
  double latency_ms = 0;         // 1000 / calls_per_s: one reverse step
  double gflops = 0, mfu = 0;    // mfu: NaN from a quick run (see TrainFigures)
  std::vector<OpTime> profile;   // per batched call
};

// Throughput over one of the Python twin's runs: training, and sampling at each batch both measured.
struct TwinRatios {
  double train = 0;
  std::vector<std::pair<int64_t, double>> sample;  // (batch, ratio of calls/s)
};

// The figures of one precision: its own peak, and training and sampling against it.
struct PrecisionFigures {
  Precision precision = Precision::fp32;
  MatmulPeak peak;
  double peak_gflops = 0;  // peak.gflops()
  TrainFigures train;
  std::vector<SampleFigures> sample;
  std::optional<TwinRatios> over_twin;           // over the twin's fp32 (with --twin)
  std::optional<TwinRatios> over_twin_autocast;  // bf16 over the twin's autocast bf16 (PyTorch 2 twins)
};

struct BenchReport {
  std::string device, torch_version, preset;
  int threads = 0;
  int64_t parameters = 0, forward_flops_per_sample = 0;
  std::vector<PrecisionFigures> runs;  // one per precision, in the order asked for
  std::optional<TwinFigures> twin;
  double peak_memory_mb = 0;
  double seconds = 0;  // wall time of the whole benchmark
};

// Throws std::invalid_argument for an unknown device or preset, or cuda without CUDA.
BenchReport run_bench(const BenchOptions& options);

void to_json(nlohmann::json& j, const BenchReport& r);
void to_json(nlohmann::json& j, const OpTime& op);

}  // namespace ddpm
