#include "ddpm/data/class_names_file.h"

#include <fmt/format.h>

#include <fstream>
#include <stdexcept>

#include "ddpm/io/input_file.h"

namespace ddpm {

std::vector<std::string> read_class_names(const std::string& path) {
  constexpr std::streamoff kMaxBytes = std::streamoff{16} << 20;
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be opened", path));
  if (in.tellg() > kMaxBytes) throw std::runtime_error(fmt::format("{}: over 16 MiB, not a list of class names", path));
  in.seekg(0);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", path));
  while (!names.empty() && names.back().empty()) names.pop_back();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) throw std::runtime_error(fmt::format("{}: line {} is blank (one class name per line)", path, i + 1));
  if (names.empty()) throw std::runtime_error(fmt::format("{}: no class names", path));
  return names;
}

}  // namespace ddpm
