// Output paths, checked before a command does its work, by one rule for every command: a command never
// writes over a file it reads (compared by file identity, so links and other spellings of a path count
// as the same file), never replaces an existing output unless allowed to, and finds out about a missing
// folder, a folder or device in the way, or an extension it cannot write before it spends minutes
// computing what it would write. The writes themselves go through write_file_atomically (atomic_file.h).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "ddpm/io/remedy.h"

namespace ddpm {

// An output that exists where replacing was not allowed: its remedy is Remedy::replace_output, or
// Remedy::write_into_folder for a non-empty output folder.
class OutputExists : public ActionableError {
 public:
  OutputExists(const std::string& problem, bool folder)
      : ActionableError(problem, folder ? Remedy::write_into_folder : Remedy::replace_output) {}
};

struct OutputRules {
  std::vector<std::string> reads;  // the files (and folders) the command reads; never written over
  bool replace = false;            // an existing output may be replaced
};

struct OutputFile {
  std::string path;
  std::vector<std::string> extensions;  // accepted endings, e.g. {".png"} (lowercase; any case matches)
};

// Checks files a command will write: the folder exists and is writable; the path is not a folder nor a
// device; it ends in one of its extensions; it is none of the files read; no two outputs are the same
// file; an existing file only with rules.replace (else OutputExists). Throws std::invalid_argument
// naming the path otherwise.
void check_output_files(const std::vector<OutputFile>& outputs, const OutputRules& rules);

// Checks a folder a command will fill (created later, with its parents): where it exists it must be a
// writable folder, empty unless rules.replace (else OutputExists), and hold none of the files read;
// where it does not, its nearest existing parent must be a writable folder.
void check_output_folder(const std::string& path, const OutputRules& rules);

}  // namespace ddpm
