// Crash-safe file replacement: a reader sees either the old file or the complete new one, never a
// partial write (temporary file in the same directory, fsync, rename, fsync of the directory).
#pragma once

#include <string>

namespace ddpm {

// Writes `bytes` to `path` atomically. On any failure (missing directory, no permission, disk full)
// the temporary is removed, the previous file at `path` stays intact, and std::runtime_error is thrown
// naming the path and the system's reason.
void write_file_atomically(const std::string& path, const std::string& bytes);

// A log that grows by whole records (e.g. a run's metrics.jsonl), for what cannot be rewritten atomically
// at every line: each append is written through to the file and checked; a failed one is cut off again
// (the file keeps only whole records) and throws std::runtime_error naming the path and the reason.
class AppendFile {
 public:
  explicit AppendFile(const std::string& path);  // the file must exist
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(const std::string& bytes);

 private:
  std::string path_;
  int fd_ = -1;
  long long size_ = 0;  // the end of the last whole record
};

// Reads a whole file; throws std::runtime_error naming the path if it cannot be opened or read.
std::string read_file_bytes(const std::string& path);

}  // namespace ddpm
