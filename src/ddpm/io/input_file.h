// The check every reader of a user-named file makes first: a path that is missing, a folder, or a device,
// pipe or socket (/dev/zero would be read forever) is one error saying which, not "no such file" or a hang.
#pragma once

#include <string>

namespace ddpm {

// Throws std::runtime_error naming `path` unless it is (or links to) a regular file.
void require_regular_file(const std::string& path);

}  // namespace ddpm
