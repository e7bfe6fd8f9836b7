#include "training/run_start.h"

#include <filesystem>
#include <stdexcept>

#include "training/checkpoint.h"
#include "training/run_lock.h"

namespace fs = std::filesystem;

namespace ddpm {

RemovedUnlessKept::~RemovedUnlessKept() {
  std::error_code ignored;
  if (!path_.empty()) fs::remove_all(path_, ignored);
}

void discard_unresumable_run(const std::string& run_dir) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return;
  const RunLock lock(run_dir);
  if (const auto latest = latest_checkpoint(run_dir))
    throw std::invalid_argument(fmt::format("'{}' holds a complete checkpoint ({}): it is resumable and never started "
                                            "over; continue it with --resume {} or choose another --out",
                                            run_dir, fs::path(*latest).filename().string(), run_dir));
  for (const char* name : {"checkpoints", "samples", "config.json", "metrics.jsonl"}) {
    fs::remove_all(fs::path(run_dir) / name, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot remove '{}': {}", (fs::path(run_dir) / name).string(), ec.message()));
  }
}

}  // namespace ddpm
