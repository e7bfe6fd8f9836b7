#include "ddpm/io/input_file.h"

#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace ddpm {

void require_regular_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::is_regular_file(status)) return;
  if (ec || !fs::exists(status))
    throw std::runtime_error(fmt::format("{}: no such file{}", path, ec && ec != std::errc::no_such_file_or_directory
                                                                         ? " (" + ec.message() + ")"
                                                                         : ""));
  throw std::runtime_error(fmt::format("{}: {}, not a file", path,
                                       fs::is_directory(status) ? "a folder" : "a device, pipe or socket"));
}

}  // namespace ddpm
