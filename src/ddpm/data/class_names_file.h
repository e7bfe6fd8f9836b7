// A text file of class names, one per line in label order (the names of an idx: data set's labels).
#pragma once

#include <string>
#include <vector>

namespace ddpm {

// Lines without their line ends ("\n" or "\r\n"); blank lines at the end are ignored. A missing or unreadable
// file, one over 16 MiB, or a blank line among the names is an error naming the file (the names themselves
// are checked with the labels: models/model_config.h's check_class_names).
std::vector<std::string> read_class_names(const std::string& path);

}  // namespace ddpm
