// The whole benchmark (see bench_suite.h): peak, training, sampling, memory.
#include "ddpm/benchmark/bench_suite.h"

#include <torch/version.h>

#include <chrono>

#include "ddpm/benchmark/matmul_peak.h"
#include "ddpm/benchmark/peak_memory.h"
#include "ddpm/benchmark/sample_throughput.h"
#include "ddpm/benchmark/train_throughput.h"
#include "ddpm/io/json_number.h"  // a figure not measured (a quick run's MFU) is null
#include "ddpm/models/model_config.h"
#include "ddpm/runtime/device.h"

namespace ddpm {
namespace {

// Repeats and sizes: each precision's run stays under two minutes on two CPU cores (each figure is the best
// of several repeats, as the machines are shared); --quick only checks that everything runs. A GPU reaches
// its matrix peak only on products of several thousand (an H200's bf16 one needs n = 8192: at 2048 it runs
// at a fraction, which would flatter MFU), and its steps take milliseconds, so it gets more of them.
struct Effort {
  std::vector<int64_t> matmul_sizes;
  int matmul_repeats, train_repeats, sample_repeats;
  int64_t sample_calls_at_batch_1;  // batched calls per timed run: this divided by the batch, at least 1
};

Effort effort(bool quick, const c10::Device& device) {
  if (quick) return {{512}, 2, 1, 1, 2};
  if (device.is_cuda()) return {{4096, 8192}, 10, 10, 3, 512};
  return {{1024, 2048}, 5, 5, 5, 32};
}

PrecisionFigures measure(const ModelConfig& model, const BenchOptions& o, const c10::Device& device, Precision precision,
                         int64_t forward_flops) {
  const auto e = effort(o.quick, device);
  const double gflop = static_cast<double>(forward_flops) * 1e-9;
  PrecisionFigures r;
  r.precision = precision;
  r.peak = matmul_peak(device, e.matmul_sizes, e.matmul_repeats,
                       precision == Precision::bf16 ? torch::kBFloat16 : torch::kFloat32);
  r.peak_gflops = r.peak.gflops();
  const auto utilisation = [&](double gflops) { return o.quick ? std::nan("") : gflops / r.peak_gflops; };

  auto& t = r.train;
  t.batch = o.train_batch > 0 ? o.train_batch : device.is_cuda() ? 128 : 64;
  t.images_per_s = training_images_per_second(model, t.batch, device, precision, e.train_repeats, 1,
                                              o.profile ? &t.profile : nullptr);
  t.steps_per_s = t.images_per_s / static_cast<double>(t.batch);
  t.gflops = 3.0 * gflop * t.images_per_s;
  t.mfu = utilisation(t.gflops);

  for (const int64_t batch : o.sample_batches) {
    SampleFigures s;
    s.batch = batch;
    const int64_t calls = std::max<int64_t>(1, e.sample_calls_at_batch_1 / batch);
    s.calls_per_s = sampling_calls_per_second(model, batch, device, precision, e.sample_repeats, calls,
                                              o.profile ? &s.profile : nullptr);
    s.evaluations_per_s = s.calls_per_s * static_cast<double>(batch);
    s.latency_ms = 1000.0 / s.calls_per_s;
    s.gflops = gflop * s.evaluations_per_s;
    s.mfu = utilisation(s.gflops);
    r.sample.push_back(std::move(s));
  }
  return r;
}

TwinRatios over(const PrecisionFigures& run, const TwinRun& twin) {
  TwinRatios ratios;
  ratios.train = run.train.images_per_s / twin.train_images_per_s;
  for (const auto& s : run.sample)
    for (size_t i = 0; i < twin.sample_batches.size(); ++i)
      if (twin.sample_batches[i] == s.batch) ratios.sample.emplace_back(s.batch, s.calls_per_s / twin.sample_calls_per_s[i]);
  return ratios;
}

nlohmann::json ratios_json(const TwinRatios& ratios) {
  nlohmann::json j = {{"train", ratios.train}, {"sample", nlohmann::json::array()}};
  for (const auto& [batch, ratio] : ratios.sample) j["sample"].push_back({{"batch", batch}, {"ratio", ratio}});
  return j;
}

}  // namespace

BenchReport run_bench(const BenchOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const auto device = parse_device(o.device);
  BenchReport r;
  r.preset = !o.preset.empty() ? o.preset : device.is_cuda() ? "cifar10" : "fashion";
  if (!o.twin.empty() && (r.preset != "fashion" || !device.is_cpu() || (o.train_batch > 0 && o.train_batch != 64)))
    throw std::invalid_argument("the Python twin is the fashion U-Net on the CPU at training batch 64");
  if (!o.twin.empty()) check_python_twin(o.twin);
  r.device = device.str();
  r.torch_version = TORCH_VERSION;
  r.threads = torch::get_num_threads();
  const auto model = model_preset(r.preset);
  r.parameters = parameter_count(*build_model(model));
  r.forward_flops_per_sample = forward_flops_per_sample(model);
  auto names = o.precisions;
  if (names.empty()) {
    names = {"fp32"};
    if (has_native_bf16(device)) names.push_back("bf16");
  }
  std::vector<Precision> precisions;  // all checked before the first is measured
  for (const auto& name : names) precisions.push_back(choose_precision(name, device, model));
  for (const auto precision : precisions)
    r.runs.push_back(measure(model, o, device, precision, r.forward_flops_per_sample));
  r.peak_memory_mb = peak_memory_mb(device);  // before the twin: the figure is ddpm's own (getrusage RSS)
  if (!o.twin.empty()) {
    r.twin = run_python_twin(o.twin, r.threads, o.quick);
    for (auto& run : r.runs) {
      run.over_twin = over(run, r.twin->fp32);
      if (run.precision == Precision::bf16 && r.twin->autocast_bf16)
        run.over_twin_autocast = over(run, *r.twin->autocast_bf16);
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

void to_json(nlohmann::json& j, const OpTime& op) {
  j = {{"name", op.name}, {"calls", op.calls}, {"self_ms", op.self_ms}, {"total_ms", op.total_ms}};
}

void to_json(nlohmann::json& j, const BenchReport& r) {
  j = {{"device", r.device},
       {"threads", r.threads},
       {"torch_version", r.torch_version},
       {"preset", r.preset},
       {"parameters", r.parameters},
       {"forward_flops_per_sample", r.forward_flops_per_sample},
       {"runs", nlohmann::json::array()},
       {"peak_memory_mb", r.peak_memory_mb},
       {"seconds", r.seconds}};
  for (const auto& run : r.runs) {
    const auto& t = run.train;
    nlohmann::json row = {
        {"precision", precision_name(run.precision)},
        {"peak_gflops", run.peak_gflops},
        {"peak_by_engine", {{"mm", run.peak.mm_gflops}, {"conv1x1", run.peak.conv1x1_gflops}}},
        {"train",
         {{"batch", t.batch}, {"images_per_s", t.images_per_s}, {"steps_per_s", t.steps_per_s}, {"gflops", t.gflops},
          {"mfu", finite_or_null(t.mfu)}}},
        {"sample", nlohmann::json::array()}};
    if (!t.profile.empty()) row["train"]["profile"] = t.profile;
    for (const auto& s : run.sample) {
      nlohmann::json sample = {{"batch", s.batch},           {"calls_per_s", s.calls_per_s},
                               {"evaluations_per_s", s.evaluations_per_s}, {"latency_ms", s.latency_ms},
                               {"gflops", s.gflops},         {"mfu", finite_or_null(s.mfu)}};
      if (!s.profile.empty()) sample["profile"] = s.profile;
      row["sample"].push_back(sample);
    }
    j["runs"].push_back(row);
  }
  if (r.twin) j["twin"] = r.twin->report;
  for (size_t k = 0; k < r.runs.size(); ++k) {
    if (r.runs[k].over_twin) j["runs"][k]["over_twin"] = ratios_json(*r.runs[k].over_twin);
    if (r.runs[k].over_twin_autocast) j["runs"][k]["over_twin_autocast"] = ratios_json(*r.runs[k].over_twin_autocast);
  }
}

}  // namespace ddpm
