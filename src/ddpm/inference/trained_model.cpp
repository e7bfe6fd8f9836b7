#include "ddpm/inference/trained_model.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "ddpm/inference/shipped_models.h"
#include "ddpm/interop/diffusers.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/model_file.h"
#include "ddpm/samplers/respacing.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

nlohmann::json sampling_json(const SamplingDefaults& d) {
  auto j = nlohmann::json::object();
  if (d.variance) j["variance"] = to_string(*d.variance);
  if (d.clip_x0) j["clip_x0"] = *d.clip_x0;
  if (d.spacing) j["spacing"] = *d.spacing;
  if (d.ddim_clipped_eps) j["ddim_clipped_eps"] = *d.ddim_clipped_eps;
  return j;
}

SamplingDefaults sampling_from_json(const std::string& text, const std::string& file) {
  SamplingDefaults d;
  try {
    const auto j = nlohmann::json::parse(text);
    for (const auto& [key, value] : j.items()) {
      if (key == "variance") d.variance = parse_variance_kind(value.get<std::string>());
      else if (key == "clip_x0") d.clip_x0 = value.get<bool>();
      else if (key == "spacing") d.spacing = value.get<std::string>();
      else if (key == "ddim_clipped_eps") d.ddim_clipped_eps = value.get<bool>();
      else throw std::invalid_argument("unknown field " + key);
    }
    const auto names = timestep_spacings();
    if (d.spacing && std::find(names.begin(), names.end(), *d.spacing) == names.end())
      throw std::invalid_argument("unknown spacing " + *d.spacing);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("'{}': bad {} metadata: {}", file, kSamplingKey, e.what()));
  }
  return d;
}

}  // namespace

SafetensorsContent trained_model_content(const NoiseNetImpl& net, const ModelConfig& model,
                                         const ScheduleConfig& schedule, int64_t step, int64_t earlier_steps,
                                         const SamplingDefaults& sampling) {
  std::map<std::string, std::string> metadata = {{kScheduleConfigKey, nlohmann::json(schedule).dump()}};
  if (step >= 0) {  // unknown for an imported model
    metadata[kStepKey] = std::to_string(step);
    metadata[kLineageStepsKey] = std::to_string(earlier_steps + step);
  }
  if (!sampling.empty()) metadata[kSamplingKey] = sampling_json(sampling).dump();
  return model_file_content(net, model, metadata);
}

int64_t recorded_step(const std::map<std::string, std::string>& metadata, const std::string& file, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return -1;
  const auto step = parse_step(it->second);
  if (!step)
    throw std::runtime_error(
        fmt::format("'{}': metadata {} must be a step number (decimal digits), got \"{}\"", file, key, it->second));
  return *step;
}

std::string resolve_model_path(const std::string& path_or_name) {
  std::error_code ec;
  if (fs::exists(path_or_name, ec)) return path_or_name;
  if (auto shipped = shipped_model_path(path_or_name)) return *shipped;
  const auto names = shipped_model_names();
  throw std::runtime_error(fmt::format("model '{}' is neither a file, a run folder nor a shipped model (shipped: {})",
                                       path_or_name, names.empty() ? "none found in " + shipped_models_dir()
                                                                   : fmt::format("{}", fmt::join(names, ", "))));
}

TrainedModel load_trained_model(const std::string& path_or_name, bool raw, c10::Device device) {
  const std::string path = resolve_model_path(path_or_name);
  std::error_code ec;
  std::string file = path;
  if (fs::is_directory(path, ec) && is_diffusers_folder(path)) {
    if (raw)
      throw std::invalid_argument(fmt::format("'{}' is a diffusers folder: it holds one set of weights, no raw and EMA "
                                              "pair",
                                              path));
    auto imported = read_diffusers_folder(path);
    TrainedModel model;
    model.config = imported.config;
    model.schedule_config = imported.scheduler.schedule;
    model.schedule = make_schedule(model.schedule_config);
    model.sampling = imported.scheduler.sampling;
    model.path = path;  // the folder: nothing is written into it
    model.net = imported.net;
    model.files = imported.files;
    model.net->to(device);
    model.net->eval();
    return model;
  }
  if (fs::is_directory(path, ec)) {
    const auto run = resolve_run(path);
    file = raw ? run.weights : run.ema_weights;
  }
  auto loaded = load_model(file);
  TrainedModel model;
  model.config = loaded.config;
  model.path = file;
  auto it = loaded.metadata.find(kScheduleConfigKey);
  if (it != loaded.metadata.end()) {
    try {
      model.schedule_config = nlohmann::json::parse(it->second).get<ScheduleConfig>();
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("'{}': bad {} metadata: {}", file, kScheduleConfigKey, e.what()));
    }
  }  // without it: Ho et al.'s linear schedule, T = 1000 (the ScheduleConfig defaults)
  model.schedule = make_schedule(model.schedule_config);
  if (const auto s = loaded.metadata.find(kSamplingKey); s != loaded.metadata.end())
    model.sampling = sampling_from_json(s->second, file);
  model.step = recorded_step(loaded.metadata, file);
  // Files written before the lineage was kept count only their own run's steps.
  model.lineage_steps = loaded.metadata.count(kLineageStepsKey) ? recorded_step(loaded.metadata, file, kLineageStepsKey)
                                                                : model.step;
  model.net = loaded.net;
  model.files = {file};
  model.net->to(device);
  model.net->eval();
  return model;
}

}  // namespace ddpm
