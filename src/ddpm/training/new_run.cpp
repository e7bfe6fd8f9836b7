#include "ddpm/training/new_run.h"

#include <filesystem>
#include <stdexcept>

#include "ddpm/io/atomic_file.h"
#include "ddpm/io/remedy.h"
#include "ddpm/io/run_folder.h"

namespace fs = std::filesystem;

namespace ddpm {

ClaimedRunFolder claim_new_run_folder(const std::string& run_dir) {
  ClaimedRunFolder claimed;
  claimed.created = fs::create_directories(run_dir);
  claimed.lock = std::make_unique<RunLock>(run_dir);  // before looking inside: it may be another's live run
  RemovedUnlessKept new_folder(claimed.created ? run_dir : "");
  if (latest_checkpoint(run_dir))
    throw ActionableError(fmt::format("'{}' already holds a run", run_dir), Remedy::resume_or_use_another_folder, run_dir);
  // Checkpoint folders without their COMPLETE marker: a run that got past its creation and was damaged
  // since. Only an explicit start-over (discard_unresumable_run) clears it. A creation killed before its
  // step-0 checkpoint leaves at most config.json and a hidden ".partial" folder, and is simply reused.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir(run_dir), ec))
    if (entry.path().filename().string().rfind('.', 0) != 0)
      throw ActionableError(fmt::format("'{}' holds a run with no complete checkpoint ({})", run_dir,
                                        entry.path().filename().string()),
                            Remedy::start_run_over, run_dir);
  new_folder.keep();
  return claimed;
}

RemovedUnlessKept::~RemovedUnlessKept() {
  std::error_code ignored;
  if (!path_.empty()) fs::remove_all(path_, ignored);
}

void discard_unresumable_run(const std::string& run_dir) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return;
  const RunLock lock(run_dir);
  if (const auto latest = latest_checkpoint(run_dir))
    throw ActionableError(fmt::format("'{}' holds a complete checkpoint ({}): it is resumable and never started over",
                                      run_dir, fs::path(*latest).filename().string()),
                          Remedy::resume_or_use_another_folder, run_dir);
  const auto samples = fs::path(sample_grid_path(run_dir, 0)).parent_path().string();
  for (const auto& path : {checkpoints_dir(run_dir), samples, run_config_path(run_dir), metrics_path(run_dir),
                           (fs::path(run_dir) / "metrics.png").string()}) {
    fs::remove_all(path, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot remove '{}': {}", path, ec.message()));
  }
}

std::optional<TrainedModel> apply_init(TrainConfig& config) {
  if (config.init.empty()) return std::nullopt;
  auto init = load_trained_model(config.init);
  config.init = init.path;
  config.init_steps = std::max<int64_t>(init.lineage_steps, 0);  // unknown (no metadata) counts as 0
  config.preset.clear();  // the network is the one stored with the weights
  config.model = init.config;
  config.prediction = to_string(init.config.prediction);  // the weights' own
  config.schedule = init.schedule_config;
  return init;
}

std::string write_run_config(const std::string& run_dir, const TrainConfig& config) {
  const std::string text = nlohmann::json(config).dump(2) + "\n";
  write_file_atomically(run_config_path(run_dir), text);
  return config_digest(text);
}

}  // namespace ddpm
