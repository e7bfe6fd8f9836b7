// `ddpm info`: a network's parameter count, forward FLOPs per sample and config, for a preset or a
// saved model file or run folder (then also its step and the weight files it would load), or for the
// network `ddpm train` would build with the same --data, --preset and U-Net flags.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/interop/diffusers.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/model_choice.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/model_file.h"

namespace ddpm::cli {
namespace {

struct InfoOptions {
  std::string preset;
  std::string model;
  std::string data;
  int64_t image_size = 0;
  UNetShape shape;
  bool json = false;
};

void print_summary(const std::string& source, const ModelConfig& c, int64_t parameters, int64_t flops) {
  fmt::print("{}\n  {}\n", source, describe_model(c));
  fmt::print("  parameters               {:>15}\n", parameters);
  fmt::print("  forward FLOPs per sample {:>15}  ({:.3f} GFLOP)\n", flops, static_cast<double>(flops) * 1e-9);
  if (c.conditional()) {
    std::vector<std::string> numbered;
    for (int64_t k = 0; k < c.num_classes(); ++k) numbered.push_back(fmt::format("{} {}", k, c.class_names[k]));
    fmt::print("  classes: {}; {} none (the null label)\n", fmt::join(numbered, ", "), c.num_classes());
  }
}

void run(const InfoOptions& o) {
  ModelConfig config;
  NoiseNet net;
  nlohmann::json extra = nlohmann::json::object();
  if (!o.model.empty()) {
    std::string file = resolve_model_path(o.model);
    const bool diffusers = std::filesystem::is_directory(file) && is_diffusers_folder(file);
    if (diffusers) {
      const auto imported = read_diffusers_folder(file);
      extra["diffusers_weights"] = imported.weights_file;
      extra["schedule"] = imported.scheduler.schedule;
      config = imported.config;
      net = imported.net;
    } else if (std::filesystem::is_directory(file)) {  // a run folder: its latest complete checkpoint
      const auto run = resolve_run(file);
      extra["step"] = run.step;
      extra["checkpoint"] = run.checkpoint;
      extra["weights"] = run.weights;
      extra["ema_weights"] = run.ema_weights;
      file = run.ema_weights;
    }
    if (!diffusers) {
      auto loaded = load_model(file);
      config = loaded.config;
      net = loaded.net;
      extra["metadata"] = loaded.metadata;
      if (!extra.contains("step") && loaded.metadata.count(kStepKey))
        extra["step"] = recorded_step(loaded.metadata, file);
      if (loaded.metadata.count(kLineageStepsKey))
        extra["lineage_steps"] = recorded_step(loaded.metadata, file, kLineageStepsKey);
    }
  } else {
    std::vector<int64_t> sample_shape;  // without data: the preset's own input
    if (!o.data.empty()) sample_shape = load_dataset(o.data, DataOptions{"train", o.image_size, 0}).sample_shape();
    std::string chosen;
    config = model_for_data(o.preset, sample_shape, o.shape, &chosen);
    net = build_model(config);
    extra["preset"] = chosen;
  }
  const int64_t parameters = parameter_count(*net);
  const int64_t flops = forward_flops_per_sample(config);
  const std::string source = !o.model.empty() ? o.model
                             : o.data.empty()    ? "preset " + o.preset
                                                 : fmt::format("preset {} for {}", extra["preset"].get<std::string>(), o.data);
  if (!o.json) {
    print_summary(source, config, parameters, flops);
    if (extra.contains("step")) fmt::print("  training steps           {:>15}\n", extra["step"].get<int64_t>());
    if (extra.contains("lineage_steps") && extra["lineage_steps"] != extra["step"])
      fmt::print("  steps incl. --init chain {:>15}\n", extra["lineage_steps"].get<int64_t>());
    if (extra.contains("metadata") && extra["metadata"].contains(kVersionKey))
      fmt::print("  written by ddpm          {:>15}\n", extra["metadata"][kVersionKey].get<std::string>());
    if (extra.contains("diffusers_weights"))
      fmt::print("  diffusers folder; weights: {}\n  schedule: {}\n", extra["diffusers_weights"].get<std::string>(),
                 extra["schedule"].dump());
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
  auto* model = app->add_option("--model", o->model,
                                "a shipped model's name, a run folder, a model saved by ddpm (.safetensors) or a "
                                "diffusers folder");
  auto* preset = app->add_option("--preset", o->preset, "a named architecture (with --data: fitted to the data, "
                                 "as train does; default chosen from the data's shape)")
                     ->check(CLI::IsMember(preset_names()))->excludes(model);
  auto* data = app->add_option("--data", o->data, "the network train would build for this data (see train --help)")
                   ->excludes(model);
  app->add_option("--image-size", o->image_size, "folder: data: resize and center-crop to this size")
      ->check(positive())->needs(data);
  for (auto* flag : add_unet_shape_flags(app, o->shape)) flag->excludes(model);
  app->callback([model, preset, data] {
    if (!model->count() && !preset->count() && !data->count())
      throw CLI::RequiredError("--model, --preset or --data");
  });
  app->add_flag("--json", o->json, "print one JSON object: parameters, forward_flops_per_sample, config");
  return {app, [o] { run(*o); }};
}

}  // namespace ddpm::cli
