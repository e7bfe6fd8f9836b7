// Classes by name or index, and the rules their names follow (see model_config.h).
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "ddpm/models/model_config.h"

namespace ddpm {
namespace {

// The number a text spells (digits only), or -1.
int64_t as_index(const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(text);
}

}  // namespace

void check_class_names(const std::vector<std::string>& names, const std::string& where) {
  if (static_cast<int64_t>(names.size()) > kMaxClasses)
    throw std::invalid_argument(fmt::format("{}: {} classes, more than the {} a network takes", where, names.size(), kMaxClasses));
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& name = names[i];
    if (name.empty() || name == "none")
      throw std::invalid_argument(fmt::format("{}: class {} is named \"{}\" (a class needs a name other than none)", where, i, name));
    if (!seen.insert(name).second)
      throw std::invalid_argument(fmt::format("{}: two classes are named \"{}\"", where, name));
    const int64_t index = as_index(name);
    if (index >= 0 && index != static_cast<int64_t>(i))
      throw std::invalid_argument(fmt::format("{}: class {} is named \"{}\", the number of another class", where, i, name));
  }
}

int64_t class_label(const ModelConfig& config, const std::string& name_or_index) {
  const auto& names = config.class_names;
  if (names.empty())
    throw std::invalid_argument(fmt::format("class \"{}\": the model was trained without classes", name_or_index));
  if (name_or_index == "none") return config.num_classes();
  const auto found = std::find(names.begin(), names.end(), name_or_index);
  if (found != names.end()) return found - names.begin();
  const int64_t index = as_index(name_or_index);
  if (index >= 0 && index < config.num_classes()) return index;
  throw std::invalid_argument(fmt::format("unknown class \"{}\" (the model's classes: {}; or 0..{}, or none)", name_or_index,
                                          fmt::join(names, ", "), config.num_classes() - 1));
}

}  // namespace ddpm
