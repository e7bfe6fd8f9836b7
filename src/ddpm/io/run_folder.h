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

#include "ddpm/io/safetensors.h"

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

// A step number written as plain decimal digits ("0", "1000"), or nothing (signs, spaces, other text, overflow).
std::optional<int64_t> parse_step(const std::string& text);
// The step of a canonical checkpoint folder name (exactly checkpoint_name(step)), or nothing: "step-6" or
// "step--0000004" are not checkpoints.
std::optional<int64_t> checkpoint_step(const std::string& folder_name);

// Every file of a checkpoint records its step (the safetensors files' metadata under this key, state.json's
// "step", the COMPLETE marker); a checkpoint is read only if they all agree with its folder's name. A
// model file exported from a run keeps the key (the training steps behind its weights).
inline constexpr const char* kStepKey = "ddpm.step";

// The run's config.json is fingerprinted in every checkpoint (state.json's "config_digest"), so that a
// resume notices when the file was edited or removed.
std::string config_digest(const std::string& config_json_text);
// Throws std::runtime_error naming RUN/config.json when it is missing or its digest is not `digest`.
void check_run_config(const std::string& run_dir, const std::string& digest);

// Writes the checkpoint for `step` and returns its folder. Throws (leaving older checkpoints intact) on
// any I/O failure, e.g. a full disk.
std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data);

// Complete checkpoints of a run (canonical names only), oldest first.
std::vector<std::string> complete_checkpoints(const std::string& run_dir);
std::optional<std::string> latest_checkpoint(const std::string& run_dir);

// The files a run folder's latest complete checkpoint holds.
struct RunFiles {
  std::string checkpoint, weights, ema_weights;
  int64_t step = 0;
};
RunFiles resolve_run(const std::string& run_dir);  // throws if there is no complete checkpoint

// Reads a complete checkpoint folder and checks that each of its files is of its step (std::runtime_error
// naming the file otherwise).
CheckpointData read_checkpoint(const std::string& checkpoint_dir);

// Deletes all but the newest `keep` complete checkpoints, and stale ".partial" folders.
void prune_checkpoints(const std::string& run_dir, int64_t keep);

}  // namespace ddpm
