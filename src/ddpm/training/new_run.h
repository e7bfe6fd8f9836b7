// Starting a run folder: the policy for which folders may hold a new run, starting over one that cannot be
// resumed, and fine-tuning from existing weights (an initialisation file, run folder or shipped model),
// whose network and schedule the run takes. A start that fails removes the folder it created, so the
// corrected command can use the name.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ddpm/inference/trained_model.h"
#include "ddpm/training/run_lock.h"
#include "ddpm/training/train_config.h"

namespace ddpm {

struct ClaimedRunFolder {
  std::unique_ptr<RunLock> lock;  // held for as long as the run trains
  bool created = false;           // the folder did not exist before
};

// Creates the folder if missing, takes its lock (training/run_lock.h) before looking inside, and refuses a
// folder that already holds a run (a complete checkpoint, or checkpoint folders damaged since: those need
// discard_unresumable_run). A folder whose creation was killed before its step-0 checkpoint was complete
// holds nothing to keep (at most config.json), so it is reused rather than left unusable.
ClaimedRunFolder claim_new_run_folder(const std::string& run_dir);

// Removes `path` with everything in it when destroyed, unless keep() was called; an empty path (a folder
// that existed before) is never removed.
class RemovedUnlessKept {
 public:
  explicit RemovedUnlessKept(std::string path) : path_(std::move(path)) {}
  ~RemovedUnlessKept();
  RemovedUnlessKept(const RemovedUnlessKept&) = delete;
  RemovedUnlessKept& operator=(const RemovedUnlessKept&) = delete;
  void keep() { path_.clear(); }

 private:
  std::string path_;
};

// Clears a run folder that holds no complete checkpoint (its checkpoints, config.json, metrics.jsonl, metrics.png,
// samples/; anything else is left), so that a new run can start in it. A folder with a complete
// checkpoint is refused (std::invalid_argument): that run can be resumed and is never discarded; so is a
// folder another process is training in. A missing folder is left to the run's creation.
void discard_unresumable_run(const std::string& run_dir);

// With config.init set: loads those weights and makes `config` describe them (their network and schedule,
// no preset, init resolved to the file read). Returns nothing when config.init is empty.
std::optional<TrainedModel> apply_init(TrainConfig& config);

// Writes RUN/config.json, before the run's step-0 checkpoint, and returns its digest (config_digest),
// which every checkpoint carries.
std::string write_run_config(const std::string& run_dir, const TrainConfig& config);

}  // namespace ddpm
