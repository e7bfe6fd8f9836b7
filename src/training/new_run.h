// Starting a run folder: the policy for which folders may hold a new run, and fine-tuning from existing
// weights (an initialisation file, run folder or shipped model), whose network and schedule the run takes.
#pragma once

#include <optional>
#include <string>

#include "inference/trained_model.h"
#include "training/train_config.h"

namespace ddpm {

// Refuses a folder that already holds a run (a config.json or a complete checkpoint), then creates it.
// A folder whose creation was killed before its step-0 checkpoint was complete holds nothing to keep
// (config.json is written after that checkpoint), so it is reused rather than left unusable.
void claim_new_run_folder(const std::string& run_dir);

// With config.init set: loads those weights and makes `config` describe them (their network and schedule,
// no preset, init resolved to the file read). Returns nothing when config.init is empty.
std::optional<TrainedModel> apply_init(TrainConfig& config);

// RUN/config.json, written once the run's step-0 checkpoint exists.
void write_run_config(const std::string& run_dir, const TrainConfig& config);

}  // namespace ddpm
