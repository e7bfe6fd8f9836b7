// The layout of a run folder, shared by training (which writes it) and inference (which reads its
// weights): RUN/config.json, RUN/metrics.jsonl, RUN/samples/step-00001000.png, and the checkpoints,
// RUN/checkpoints/step-00001000/{model,ema,optimizer}.safetensors + state.json + COMPLETE. A checkpoint is written into a hidden ".partial" folder, every file fsynced, the COMPLETE
// marker written last, then the folder is renamed into place and the parent fsynced: a kill at any moment
// leaves either the new complete checkpoint or none, and the previous ones untouched. Only complete
// checkpoints are ever read; old ones are deleted only after a new one is complete.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace ddpm {

struct CheckpointData {
  SafetensorsContent model;      // raw weights (with config metadata: loadable as a model)
  SafetensorsContent ema;        // EMA weights (likewise)
  SafetensorsContent optimizer;  // Adam state and RNG states
  nlohmann::json state;          // step, config, data position, counters
};

std::string run_config_path(const std::string& run_dir);             // RUN/config.json
std::string metrics_path(const std::string& run_dir);                // RUN/metrics.jsonl
std::string sample_grid_path(const std::string& run_dir, int64_t step);  // RUN/samples/step-XXXXXXXX.png
std::string checkpoints_dir(const std::string& run_dir);
std::string checkpoint_name(int64_t step);  // "step-00001000"

// Writes the checkpoint for `step` and returns its folder. Throws (leaving older checkpoints intact) on
// any I/O failure, e.g. a full disk.
std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data);

// Complete checkpoints of a run, oldest first.
std::vector<std::string> complete_checkpoints(const std::string& run_dir);
std::optional<std::string> latest_checkpoint(const std::string& run_dir);

// The files a run folder's latest complete checkpoint holds.
struct RunFiles {
  std::string checkpoint, weights, ema_weights;
  int64_t step = 0;
};
RunFiles resolve_run(const std::string& run_dir);  // throws if there is no complete checkpoint

// Reads a complete checkpoint folder.
CheckpointData read_checkpoint(const std::string& checkpoint_dir);

// Deletes all but the newest `keep` complete checkpoints, and stale ".partial" folders.
void prune_checkpoints(const std::string& run_dir, int64_t keep);

}  // namespace ddpm
