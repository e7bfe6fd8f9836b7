// Small text helpers shared by file-name checks, error messages and the tables of kinds (their names and
// help lines).
#pragma once

#include <string>
#include <vector>

namespace ddpm {

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "a", "a or b", "a, b or c": the choices an error message offers.
inline std::string one_of(const std::vector<std::string>& choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i)
    s += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  return s;
}

// One text column (`name`, `help`) of a table of rows, or of pointers to rows, in table order.
template <typename Row>
const Row& table_row(const Row& row) { return row; }
template <typename Row>
const Row& table_row(const Row* row) { return *row; }
template <typename Rows, typename Row>
std::vector<std::string> column(const Rows& rows, const char* Row::*field) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.emplace_back(table_row(row).*field);
  return out;
}

}  // namespace ddpm
