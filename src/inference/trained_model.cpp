#include "inference/trained_model.h"

#include <filesystem>
#include <stdexcept>

#include "inference/shipped_models.h"
#include "io/run_folder.h"
#include "models/model_file.h"

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
  return model_file_content(net, model, {{kScheduleConfigKey, nlohmann::json(schedule).dump()},
                                         {kStepKey, std::to_string(step)},
                                         {kLineageStepsKey, std::to_string(earlier_steps + step)}});
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
      model.schedule_config = nlohmann::json::parse(it->second).get<ScheduleConfig>();
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("'{}': bad {} metadata: {}", file, kScheduleConfigKey, e.what()));
    }
  }  // without it: Ho et al.'s linear schedule, T = 1000 (the ScheduleConfig defaults)
  model.schedule = make_schedule(model.schedule_config);
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
