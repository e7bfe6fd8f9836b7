// Starting a run folder, and starting one over. A start that fails (bad data, a network that does not
// fit, a full disk) removes the folder it created, so the corrected command can use the name; a folder
// whose checkpoints are all incomplete (none can be resumed) can be started over on request.
#pragma once

#include <string>

namespace ddpm {

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

// Clears a run folder that holds no complete checkpoint (its checkpoints, config.json, metrics.jsonl,
// samples/; anything else is left), so that a new run can start in it. A folder with a complete
// checkpoint is refused (std::invalid_argument): that run can be resumed and is never discarded; so is a
// folder another process is training in. A missing folder is left to the run's creation.
void discard_unresumable_run(const std::string& run_dir);

}  // namespace ddpm
