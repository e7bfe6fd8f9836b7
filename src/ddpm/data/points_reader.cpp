// CSV points: fields split on commas, surrounding blanks ignored, blank lines skipped. A first line that
// does not parse as numbers is taken as the header; anywhere else it is an error.
#include "ddpm/data/points_reader.h"
#include "ddpm/io/input_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ddpm {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Parses one row; returns false (and the offending field) if a field is not a finite number.
bool parse_row(const std::string& line, std::vector<float>& out, std::string& bad_field) {
  out.clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    const std::string field = trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(field.c_str(), &end);
    if (field.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
      bad_field = field;
      return false;
    }
    out.push_back(static_cast<float>(v));
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

}  // namespace

torch::Tensor read_points_csv(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::vector<float> values, row;
  int64_t dims = 0, rows = 0, line_no = 0;
  bool seen_first = false;
  std::string line, bad;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const bool first = !seen_first;
    seen_first = true;
    if (!parse_row(line, row, bad)) {
      if (first) continue;  // header
      throw std::runtime_error(fmt::format("{}:{}: '{}' is not a finite number", path, line_no, bad));
    }
    if (dims == 0) dims = static_cast<int64_t>(row.size());
    if (static_cast<int64_t>(row.size()) != dims)
      throw std::runtime_error(fmt::format("{}:{}: {} values, but earlier rows have {}", path, line_no,
                                           row.size(), dims));
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) throw std::runtime_error(fmt::format("{}: no data rows", path));
  return torch::from_blob(values.data(), {rows, dims}, torch::kFloat32).clone();
}

}  // namespace ddpm
