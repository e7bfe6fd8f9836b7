// The atomic file writer: replaces whole files, and on failure keeps the old file and leaves no temporary.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include "io/atomic_file.h"
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
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  EXPECT_THROW(write_file_atomically(path, std::string(1 << 20, 'n')), std::runtime_error);
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
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
