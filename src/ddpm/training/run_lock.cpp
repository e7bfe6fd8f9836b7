// flock rather than fcntl locks: fcntl locks belong to the process, so a second Trainer on the same folder
// in one process would not be refused, and closing any descriptor of the file would drop them.
#include "ddpm/training/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "ddpm/io/atomic_file.h"

namespace ddpm {

RunLock::RunLock(const std::string& run_dir) {
  const auto path = (std::filesystem::path(run_dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(fmt::format("cannot open the lock file '{}': {}", path, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    if (error != EWOULDBLOCK)
      throw std::runtime_error(fmt::format("cannot lock '{}': {}", path, std::strerror(error)));
    std::string holder;
    try {
      holder = read_file_bytes(path);
    } catch (const std::runtime_error&) {
    }
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    throw std::runtime_error(fmt::format("run folder '{}' is in use by another ddpm process ({}); wait for it to end "
                                         "or stop it", run_dir, holder.empty() ? "pid unknown" : "pid " + holder));
  }
  // The pid only serves the message of a refused second process; the lock holds without it.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

RunLock::~RunLock() { ::close(fd_); }

}  // namespace ddpm
