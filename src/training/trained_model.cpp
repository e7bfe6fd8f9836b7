#include "training/trained_model.h"

#include <filesystem>
#include <stdexcept>

#include "models/model_file.h"
#include "training/checkpoint.h"
#include "training/shipped_models.h"
#include "training/train_config.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

// A step count from the metadata: -1 if absent; a value that is not a count is an error naming the file.
int64_t metadata_steps(const std::map<std::string, std::string>& metadata, const char* key, const std::string& file) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return -1;
  std::size_t used = 0;
  int64_t steps = -1;
  try {
    steps = std::stoll(it->second, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != it->second.size() || steps < 0)
    throw std::runtime_error(fmt::format("'{}': bad {} metadata '{}' (expected a step count)", file, key, it->second));
  return steps;
}

}  // namespace

SafetensorsContent trained_model_content(const NoiseNetImpl& net, const ModelConfig& model,
                                         const ScheduleConfig& schedule, int64_t step, int64_t earlier_steps) {
  SafetensorsContent content;
  content.tensors = state_dict_tensors(net);
  content.metadata[kModelConfigKey] = nlohmann::json(model).dump();
  content.metadata[kScheduleConfigKey] = nlohmann::json(schedule).dump();
  content.metadata[kStepKey] = std::to_string(step);
  content.metadata[kLineageStepsKey] = std::to_string(earlier_steps + step);
  return content;
}

RunFiles resolve_run(const std::string& run_dir) {
  auto latest = latest_checkpoint(run_dir);
  if (!latest)
    throw std::runtime_error(fmt::format("'{}' holds no complete checkpoint (is it a ddpm run folder?)", run_dir));
  RunFiles files;
  files.checkpoint = *latest;
  files.weights = (fs::path(*latest) / "model.safetensors").string();
  files.ema_weights = (fs::path(*latest) / "ema.safetensors").string();
  const auto name = fs::path(*latest).filename().string();  // step-NNNNNNNN
  files.step = std::stoll(name.substr(5));
  return files;
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
      model.schedule = nlohmann::json::parse(it->second).get<ScheduleConfig>();
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("'{}': bad {} metadata: {}", file, kScheduleConfigKey, e.what()));
    }
  }  // without it: Ho et al.'s linear schedule, T = 1000 (the ScheduleConfig defaults)
  model.step = metadata_steps(loaded.metadata, kStepKey, file);
  // Files written before the lineage was kept count only their own run's steps.
  model.lineage_steps = loaded.metadata.count(kLineageStepsKey) ? metadata_steps(loaded.metadata, kLineageStepsKey, file)
                                                                : model.step;
  model.net = loaded.net;
  model.net->to(device);
  model.net->eval();
  return model;
}

}  // namespace ddpm
