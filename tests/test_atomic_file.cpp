// The atomic file writer: replaces whole files, and on failure keeps the old file and leaves no temporary.
#include <gtest/gtest.h>

#include <filesystem>

#include "file_size_limit.h"
#include "ddpm/io/atomic_file.h"
#include "temp_dir.h"

using namespace ddpm;

namespace {
size_t entries(const std::filesystem::path& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}
}  // namespace

TEST(AtomicFile, WritesAndReplaces) {
  test::TempDir dir;
  const auto path = dir.file("a.bin");
  write_file_atomically(path, std::string("first\0x", 7));
  EXPECT_EQ(read_file_bytes(path), std::string("first\0x", 7));
  write_file_atomically(path, "second");
  EXPECT_EQ(read_file_bytes(path), "second");
  EXPECT_EQ(entries(dir.path()), 1u);  // no temporaries left behind
}

TEST(AtomicFile, MissingDirectoryThrowsNamingThePath) {
  test::TempDir dir;
  const auto path = dir.file("missing/a.bin");
  try {
    write_file_atomically(path, "x");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(AtomicFile, FailedWriteKeepsTheOldFile) {
  // A file-size limit makes write() fail with EFBIG part-way, as a full disk would (ENOSPC).
  test::TempDir dir;
  const auto path = dir.file("model.safetensors");
  write_file_atomically(path, "old contents");
  {
    test::FileSizeLimit full(4096);
    EXPECT_THROW(write_file_atomically(path, std::string(1 << 20, 'n')), std::runtime_error);
  }
  EXPECT_EQ(read_file_bytes(path), "old contents");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, ReadingAMissingFileNamesIt) {
  try {
    read_file_bytes("/nonexistent/ddpm/file");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ddpm/file"), std::string::npos);
  }
}

// The metrics log under a full disk: the failed append throws naming the file, and the file keeps only
// whole records (a cut line would be a JSON error for every reader of the log).
TEST(AppendFile, FailedAppendThrowsAndKeepsWholeRecords) {
  test::TempDir dir;
  const auto path = dir.file("metrics.jsonl");
  write_file_atomically(path, "");
  AppendFile log(path);
  log.append("{\"step\": 1}\n");
  {
    test::FileSizeLimit full(20);
    try {
      log.append("{\"step\": 2, \"loss\": 0.125}\n");
      ADD_FAILURE() << "a failed append went unnoticed";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(read_file_bytes(path), "{\"step\": 1}\n");
  log.append("{\"step\": 3}\n");  // once there is room again, the log carries on after the whole records
  EXPECT_EQ(read_file_bytes(path), "{\"step\": 1}\n{\"step\": 3}\n");
}
