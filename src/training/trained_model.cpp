#include "training/trained_model.h"

#include <filesystem>
#include <stdexcept>

#include "models/model_file.h"
#include "training/checkpoint.h"
#include "training/shipped_models.h"
#include "training/train_config.h"

namespace fs = std::filesystem;

namespace ddpm {

SafetensorsContent trained_model_content(const NoiseNetImpl& net, const ModelConfig& model,
                                         const ScheduleConfig& schedule, int64_t step) {
  SafetensorsContent content;
  content.tensors = state_dict_tensors(net);
  content.metadata[kModelConfigKey] = nlohmann::json(model).dump();
  content.metadata[kScheduleConfigKey] = nlohmann::json(schedule).dump();
  content.metadata[kStepKey] = std::to_string(step);
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
  files.step = *checkpoint_step(fs::path(*latest).filename().string());  // complete checkpoints have canonical names
  return files;
}

int64_t recorded_step(const std::map<std::string, std::string>& metadata, const std::string& file) {
  const auto it = metadata.find(kStepKey);
  if (it == metadata.end()) return -1;
  const auto step = parse_step(it->second);
  if (!step)
    throw std::runtime_error(
        fmt::format("'{}': metadata {} must be a step number (decimal digits), got \"{}\"", file, kStepKey, it->second));
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
  model.step = recorded_step(loaded.metadata, file);
  model.net = loaded.net;
  model.net->to(device);
  model.net->eval();
  return model;
}

}  // namespace ddpm
