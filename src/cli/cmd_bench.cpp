// `ddpm bench`: the benchmark (peak, training and sampling throughput, MFU, memory); prints a
// table or one JSON object, and with --profile the operators where the time goes.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "ddpm/benchmark/bench_suite.h"
#include "cli/commands.h"
#include "ddpm/models/model_config.h"
#include "ddpm/runtime/precision.h"

namespace ddpm::cli {
namespace {

struct BenchFlags {
  BenchOptions options;
  bool json = false;
  int top = 12;
};

void print_profile(const std::string& title, const std::vector<OpTime>& ops, int top) {
  fmt::print("\n{}\n  {:<44} {:>9} {:>10} {:>10}\n", title, "operator", "calls", "self ms", "total ms");
  for (size_t i = 0; i < ops.size() && i < static_cast<size_t>(top); ++i)
    fmt::print("  {:<44} {:>9.1f} {:>10.2f} {:>10.2f}\n", ops[i].name, ops[i].calls, ops[i].self_ms, ops[i].total_ms);
}

// MFU from a quick run is not a figure (its peak is measured too briefly): shown as "-".
std::string mfu_text(double mfu) { return std::isfinite(mfu) ? fmt::format("{:.2f}", mfu) : "-"; }

void print_run(const PrecisionFigures& run, int top) {
  const auto name = precision_name(run.precision);
  fmt::print("\n{}\n", name);
  fmt::print("matrix-product peak         {:9.1f} GFLOP/s  (torch::mm {:.1f}, 1x1 convolution {:.1f})\n", run.peak_gflops,
             run.peak.mm_gflops, run.peak.conv1x1_gflops);
  const auto& t = run.train;
  fmt::print("training, batch {:<4}        {:9.1f} images/s  {:6.2f} steps/s  {:7.1f} GFLOP/s  MFU {}\n", t.batch,
             t.images_per_s, t.steps_per_s, t.gflops, mfu_text(t.mfu));
  for (const auto& s : run.sample)
    fmt::print("sampling, batch {:<4}        {:9.2f} calls/s  {:8.2f} ms/step {:7.1f} GFLOP/s  MFU {}  ({:.1f} network evaluations/s)\n",
               s.batch, s.calls_per_s, s.latency_ms, s.gflops, mfu_text(s.mfu), s.evaluations_per_s);
  if (!t.profile.empty())
    print_profile(fmt::format("profile ({}): one training step, batch {}", name, t.batch), t.profile, top);
  for (const auto& s : run.sample)
    if (!s.profile.empty())
      print_profile(fmt::format("profile ({}): one batched sampling call, batch {}", name, s.batch), s.profile, top);
}

// Each precision's throughput over the first one's, figure by figure (same run, so they compare).
void print_ratios(const BenchReport& r) {
  const auto& base = r.runs.front();
  for (size_t k = 1; k < r.runs.size(); ++k) {
    const auto& run = r.runs[k];
    std::string line = fmt::format("\n{} / {}: training {:.2f}x", precision_name(run.precision),
                                   precision_name(base.precision), run.train.images_per_s / base.train.images_per_s);
    for (size_t i = 0; i < run.sample.size(); ++i)
      line += fmt::format(", sampling batch {} {:.2f}x", run.sample[i].batch,
                          run.sample[i].calls_per_s / base.sample[i].calls_per_s);
    fmt::print("{}\n", line);
  }
}

// One of the Python twin's runs and ddpm's figures over it, in the same window (--twin).
void print_over_twin(const BenchReport& r, const TwinRun& twin, const std::string& twin_name,
                     std::optional<TwinRatios> PrecisionFigures::*ratios) {
  std::string line = fmt::format("\nPython twin (PyTorch {} eager, {}): training {:.1f} images/s",
                                 r.twin->torch_version, twin_name, twin.train_images_per_s);
  for (size_t i = 0; i < twin.sample_batches.size(); ++i)
    line += fmt::format(", sampling batch {} {:.2f} calls/s", twin.sample_batches[i], twin.sample_calls_per_s[i]);
  fmt::print("{}\n", line);
  for (const auto& run : r.runs) {
    const auto& over = run.*ratios;
    if (!over) continue;
    line = fmt::format("ddpm {} / twin {}: training {:.2f}x", precision_name(run.precision), twin_name, over->train);
    for (const auto& [batch, ratio] : over->sample) line += fmt::format(", sampling batch {} {:.2f}x", batch, ratio);
    fmt::print("{}\n", line);
  }
}

void print_report(const BenchReport& r, int top) {
  fmt::print("ddpm bench: device {}, {} threads, LibTorch {}\n", r.device, r.threads, r.torch_version);
  fmt::print("model {}: {} parameters, {:.3f} GFLOP forward per sample\n", r.preset, r.parameters,
             static_cast<double>(r.forward_flops_per_sample) * 1e-9);
  for (const auto& run : r.runs) print_run(run, top);
  print_ratios(r);
  if (r.twin) {
    print_over_twin(r, r.twin->fp32, "fp32", &PrecisionFigures::over_twin);
    if (r.twin->autocast_bf16)
      print_over_twin(r, *r.twin->autocast_bf16, "autocast bf16", &PrecisionFigures::over_twin_autocast);
  }
  fmt::print("\npeak memory                 {:9.0f} MB\n", r.peak_memory_mb);
  fmt::print("benchmark time              {:9.1f} s\n", r.seconds);
  if (!std::isfinite(r.runs.front().train.mfu))
    fmt::print("(--quick: a smoke run; its peak is too short to divide by, so no MFU)\n");
}

}  // namespace

Subcommand add_bench(CLI::App& parent) {
  auto* app = parent.add_subcommand("bench", "throughput and MFU: matrix-product peak, training, sampling, memory");
  auto f = std::make_shared<BenchFlags>();
  auto& o = f->options;
  app->add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  app->add_option("--preset", o.preset, "network (default: fashion on cpu, cifar10 on cuda)")
      ->check(CLI::IsMember(preset_names()));
  app->add_option("--batch", o.train_batch, "training batch (default: 64 on cpu, 128 on cuda)")->check(positive());
  app->add_flag("--json", f->json, "print one JSON object");
  app->add_flag("--quick", o.quick, "one repeat of everything: checks that it runs, measures little (no MFU)");
  app->add_flag("--profile", o.profile, "also LibTorch's profile of a training step and of sampling at each batch");
  app->add_option("--precision", o.precisions,
                  "precisions measured in turn, comma-separated: fp32, bf16, auto (as train would choose); MFU is "
                  "against each one's own peak (default: fp32, and bf16 where the device has it natively)")
      ->delimiter(',')->check(CLI::IsMember(precision_choices()));
  app->add_option("--twin", o.twin,
                  "also run this Python twin (bench/pytorch_fashion.py; needs python3-torch) in the same window and "
                  "print ddpm's figures over its own");
  app->add_option("--top", f->top, "operators listed per profile (text output)")->capture_default_str()
      ->check(positive());
  return {app, [f] {
            const auto report = run_bench(f->options);
            if (f->json)
              std::cout << nlohmann::json(report).dump() << "\n";
            else
              print_report(report, f->top);
          }};
}

}  // namespace ddpm::cli
