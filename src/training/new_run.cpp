#include "training/new_run.h"

#include <filesystem>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/run_folder.h"

namespace fs = std::filesystem;

namespace ddpm {

void claim_new_run_folder(const std::string& run_dir) {
  std::error_code ec;
  if (fs::exists(run_config_path(run_dir), ec) || latest_checkpoint(run_dir))
    throw std::invalid_argument(
        fmt::format("'{}' already holds a run; continue it with --resume {} or choose another --out", run_dir, run_dir));
  fs::create_directories(run_dir);
}

std::optional<TrainedModel> apply_init(TrainConfig& config) {
  if (config.init.empty()) return std::nullopt;
  auto init = load_trained_model(config.init);
  config.init = init.path;
  config.init_steps = std::max<int64_t>(init.lineage_steps, 0);  // unknown (no metadata) counts as 0
  config.preset.clear();  // the network is the one stored with the weights
  config.model = init.config;
  config.schedule = init.schedule_config;
  return init;
}

void write_run_config(const std::string& run_dir, const TrainConfig& config) {
  write_file_atomically(run_config_path(run_dir), nlohmann::json(config).dump(2) + "\n");
}

}  // namespace ddpm
