// The output rule of output_path.h, on POSIX stat: file identity is (device, inode), which also sees
// through symbolic and hard links.
#include "ddpm/io/output_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace fs = std::filesystem;

namespace ddpm {
namespace {

std::optional<struct stat> stat_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void check_writable_folder(const std::string& folder, const std::string& output) {
  const auto st = stat_of(folder);
  if (!st) throw std::invalid_argument(fmt::format("cannot write '{}': folder '{}': {}", output, folder, std::strerror(errno)));
  if (!S_ISDIR(st->st_mode)) throw std::invalid_argument(fmt::format("cannot write '{}': '{}' is not a folder", output, folder));
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw std::invalid_argument(fmt::format("cannot write '{}': folder '{}': {}", output, folder, std::strerror(errno)));
}

void check_not_read(const std::string& output, const struct stat& st, const OutputRules& rules) {
  for (const auto& input : rules.reads)
    if (const auto in = stat_of(input); in && same_file(*in, st))
      throw std::invalid_argument(fmt::format("'{}' is the input '{}'; write the output to another file", output, input));
}

void check_extension(const OutputFile& output) {
  if (output.extensions.empty()) return;
  const auto extension = lowercase(fs::path(output.path).extension().string());
  if (std::find(output.extensions.begin(), output.extensions.end(), extension) == output.extensions.end())
    throw std::invalid_argument(fmt::format("cannot write '{}': expected a name ending in {}", output.path,
                                            fmt::join(output.extensions, " or ")));
}

}  // namespace

void check_output_files(const std::vector<OutputFile>& outputs, const OutputRules& rules) {
  for (const auto& output : outputs) {
    if (output.path.empty()) throw std::invalid_argument("an output file name is empty");
    const auto st = stat_of(output.path);  // follows links: a link to an input is that input
    if (st) check_not_read(output.path, *st, rules);
    check_extension(output);
    const fs::path path(output.path);
    check_writable_folder(path.has_parent_path() ? path.parent_path().string() : ".", output.path);
    if (!st) continue;
    if (S_ISDIR(st->st_mode)) throw std::invalid_argument(fmt::format("'{}' is a folder; expected a file name", output.path));
    if (!S_ISREG(st->st_mode))
      throw std::invalid_argument(fmt::format("'{}' is not a regular file (a device or pipe?); expected a file name", output.path));
    if (!rules.replace) throw OutputExists(fmt::format("'{}' already exists", output.path), false);
  }
  std::vector<fs::path> seen;
  for (const auto& output : outputs) {
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(output.path, ec);
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end())
      throw std::invalid_argument(fmt::format("'{}' is given for two outputs; give each its own name", output.path));
    seen.push_back(canonical);
  }
}

void check_output_folder(const std::string& path, const OutputRules& rules) {
  if (path.empty()) throw std::invalid_argument("an output folder name is empty");
  std::error_code ec;
  if (const auto st = stat_of(path)) {
    if (!S_ISDIR(st->st_mode)) throw std::invalid_argument(fmt::format("'{}' is not a folder", path));
    check_writable_folder(path, path);
    if (fs::is_empty(path, ec)) return;
    const auto folder = fs::weakly_canonical(path, ec);
    for (const auto& input : rules.reads) {
      const auto in = fs::weakly_canonical(input, ec).lexically_relative(folder);
      if (!in.empty() && *in.begin() != "..")
        throw std::invalid_argument(fmt::format("'{}' holds the input '{}'; choose another output folder", path, input));
    }
    if (!rules.replace) throw OutputExists(fmt::format("folder '{}' is not empty", path), true);
    return;
  }
  fs::path parent = fs::absolute(path, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.root_path()) parent = parent.parent_path();
  check_writable_folder(parent.string(), path);
}

}  // namespace ddpm
