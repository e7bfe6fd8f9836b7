// The whole benchmark (see bench_suite.h): peak, training, sampling, memory.
#include "benchmark/bench_suite.h"

#include <torch/version.h>

#include <chrono>

#include "benchmark/matmul_peak.h"
#include "benchmark/peak_memory.h"
#include "benchmark/sample_throughput.h"
#include "benchmark/train_throughput.h"
#include "io/json_number.h"  // a figure not measured (a quick run's MFU) is null
#include "models/model_config.h"
#include "runtime/device.h"

namespace ddpm {
namespace {

// Repeats and sizes: the full run stays under two minutes on two CPU cores (each figure is the best of
// several repeats, as the machines are shared); --quick only checks that everything runs.
struct Effort {
  std::vector<int64_t> matmul_sizes;
  int matmul_repeats, train_repeats, sample_repeats;
  int64_t sample_calls_at_batch_1;  // batched calls per timed run: this divided by the batch, at least 1
};

Effort effort(bool quick) {
  if (quick) return {{512}, 2, 1, 1, 2};
  return {{1024, 2048}, 5, 5, 5, 32};
}

}  // namespace

BenchReport run_bench(const BenchOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const auto device = parse_device(o.device);
  const auto e = effort(o.quick);
  BenchReport r;
  r.device = device.str();
  r.torch_version = TORCH_VERSION;
  r.threads = torch::get_num_threads();
  r.train.preset = !o.preset.empty() ? o.preset : device.is_cuda() ? "cifar10" : "fashion";
  r.train.batch = o.train_batch > 0 ? o.train_batch : device.is_cuda() ? 128 : 64;
  const auto model = model_preset(r.train.preset);
  r.parameters = parameter_count(*build_model(model));
  r.forward_flops_per_sample = forward_flops_per_sample(model);
  const double gflop = static_cast<double>(r.forward_flops_per_sample) * 1e-9;

  r.peak = matmul_peak(device, e.matmul_sizes, e.matmul_repeats);
  r.peak_gflops = r.peak.gflops();
  const auto utilisation = [&](double gflops) { return o.quick ? std::nan("") : gflops / r.peak_gflops; };

  auto& t = r.train;
  t.images_per_s = training_images_per_second(model, t.batch, device, e.train_repeats, 1, o.profile ? &t.profile : nullptr);
  t.steps_per_s = t.images_per_s / static_cast<double>(t.batch);
  t.gflops = 3.0 * gflop * t.images_per_s;
  t.mfu = utilisation(t.gflops);

  for (const int64_t batch : o.sample_batches) {
    SampleFigures s;
    s.batch = batch;
    const int64_t calls = std::max<int64_t>(1, e.sample_calls_at_batch_1 / batch);
    s.calls_per_s = sampling_calls_per_second(model, batch, device, e.sample_repeats, calls, o.profile ? &s.profile : nullptr);
    s.evaluations_per_s = s.calls_per_s * static_cast<double>(batch);
    s.latency_ms = 1000.0 / s.calls_per_s;
    s.gflops = gflop * s.evaluations_per_s;
    s.mfu = utilisation(s.gflops);
    r.sample.push_back(std::move(s));
  }
  r.peak_memory_mb = peak_memory_mb(device);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

void to_json(nlohmann::json& j, const OpTime& op) {
  j = {{"name", op.name}, {"calls", op.calls}, {"self_ms", op.self_ms}, {"total_ms", op.total_ms}};
}

void to_json(nlohmann::json& j, const BenchReport& r) {
  const auto& t = r.train;
  j = {{"device", r.device},
       {"threads", r.threads},
       {"torch_version", r.torch_version},
       {"peak_gflops", r.peak_gflops},
       {"peak_by_engine", {{"mm", r.peak.mm_gflops}, {"conv1x1", r.peak.conv1x1_gflops}}},
       {"parameters", r.parameters},
       {"forward_flops_per_sample", r.forward_flops_per_sample},
       {"train",
        {{"preset", t.preset}, {"batch", t.batch}, {"images_per_s", t.images_per_s}, {"steps_per_s", t.steps_per_s},
         {"gflops", t.gflops}, {"mfu", finite_or_null(t.mfu)}}},
       {"sample", nlohmann::json::array()},
       {"peak_memory_mb", r.peak_memory_mb},
       {"seconds", r.seconds}};
  if (!t.profile.empty()) j["train"]["profile"] = t.profile;
  for (const auto& s : r.sample) {
    nlohmann::json row = {{"batch", s.batch},           {"calls_per_s", s.calls_per_s},
                          {"evaluations_per_s", s.evaluations_per_s}, {"latency_ms", s.latency_ms},
                          {"gflops", s.gflops},         {"mfu", finite_or_null(s.mfu)}};
    if (!s.profile.empty()) row["profile"] = s.profile;
    j["sample"].push_back(row);
  }
}

}  // namespace ddpm
