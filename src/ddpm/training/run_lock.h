// One process owns a run folder at a time: an advisory lock (flock) on RUN/.lock, held while a run is
// created, resumed and trained. The kernel releases it when the process ends in any way, kill -9
// included, so a lock is never stale and nothing needs cleaning up; the file's content (the holder's pid)
// only serves the message. In a data-parallel group, rank 0 holds it for the group.
#pragma once

#include <string>

namespace ddpm {

class RunLock {
 public:
  // Takes the lock of the existing folder `run_dir`; throws std::runtime_error naming the process that
  // holds it.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace ddpm
