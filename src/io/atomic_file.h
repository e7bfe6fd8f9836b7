// Crash-safe file replacement: a reader sees either the old file or the complete new one, never a
// partial write (temporary file in the same directory, fsync, rename, fsync of the directory).
#pragma once

#include <string>

namespace ddpm {

// Writes `bytes` to `path` atomically. On any failure (missing directory, no permission, disk full)
// the temporary is removed, the previous file at `path` stays intact, and std::runtime_error is thrown
// naming the path and the system's reason.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Reads a whole file; throws std::runtime_error naming the path if it cannot be opened or read.
std::string read_file_bytes(const std::string& path);

}  // namespace ddpm
