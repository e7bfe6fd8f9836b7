// `ddpm info`: a network's parameter count, forward FLOPs per sample and config, for a preset or a
// saved model file or run folder (then also its step and the weight files it would load).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "inference/trained_model.h"
#include "io/run_folder.h"
#include "models/model_config.h"
#include "models/model_file.h"

namespace ddpm::cli {
namespace {

struct InfoOptions {
  std::string preset;
  std::string model;
  bool json = false;
};

void print_summary(const std::string& source, const ModelConfig& c, int64_t parameters, int64_t flops) {
  fmt::print("{}\n  {}\n", source, describe_model(c));
  fmt::print("  parameters               {:>15}\n", parameters);
  fmt::print("  forward FLOPs per sample {:>15}  ({:.3f} GFLOP)\n", flops, static_cast<double>(flops) * 1e-9);
}

void run(const InfoOptions& o) {
  ModelConfig config;
  NoiseNet net;
  nlohmann::json extra = nlohmann::json::object();
  if (!o.model.empty()) {
    std::string file = resolve_model_path(o.model);
    if (std::filesystem::is_directory(file)) {  // a run folder: its latest complete checkpoint
      const auto run = resolve_run(file);
      extra["step"] = run.step;
      extra["checkpoint"] = run.checkpoint;
      extra["weights"] = run.weights;
      extra["ema_weights"] = run.ema_weights;
      file = run.ema_weights;
    }
    auto loaded = load_model(file);
    config = loaded.config;
    net = loaded.net;
    extra["metadata"] = loaded.metadata;
    if (!extra.contains("step") && loaded.metadata.count(kStepKey)) extra["step"] = recorded_step(loaded.metadata, file);
    if (loaded.metadata.count(kLineageStepsKey))
      extra["lineage_steps"] = recorded_step(loaded.metadata, file, kLineageStepsKey);
  } else {
    config = model_preset(o.preset);
    net = build_model(config);
  }
  const int64_t parameters = parameter_count(*net);
  const int64_t flops = forward_flops_per_sample(config);
  const std::string source = o.model.empty() ? "preset " + o.preset : o.model;
  if (!o.json) {
    print_summary(source, config, parameters, flops);
    if (extra.contains("step")) fmt::print("  training steps           {:>15}\n", extra["step"].get<int64_t>());
    if (extra.contains("lineage_steps") && extra["lineage_steps"] != extra["step"])
      fmt::print("  steps incl. --init chain {:>15}\n", extra["lineage_steps"].get<int64_t>());
    if (extra.contains("ema_weights")) fmt::print("  EMA weights: {}\n  raw weights: {}\n", extra["ema_weights"].get<std::string>(), extra["weights"].get<std::string>());
    return;
  }
  nlohmann::json out = {{"source", source}, {"parameters", parameters}, {"forward_flops_per_sample", flops},
                        {"config", config}};
  out.update(extra);
  std::cout << out.dump() << "\n";
}

}  // namespace

Subcommand add_info(CLI::App& parent) {
  auto* app = parent.add_subcommand("info", "parameter count, forward FLOPs per sample and config of a network");
  auto o = std::make_shared<InfoOptions>();
  // CLI11 itself says that exactly one is required.
  auto* source = app->add_option_group("source", "the network to describe");
  source->add_option("--preset", o->preset, "a named architecture")->check(CLI::IsMember(preset_names()));
  source->add_option("--model", o->model, "a shipped model's name, a run folder or a model saved by ddpm (.safetensors)");
  source->require_option(1);
  app->add_flag("--json", o->json, "print one JSON object: parameters, forward_flops_per_sample, config");
  return {app, [o] { run(*o); }};
}

}  // namespace ddpm::cli
