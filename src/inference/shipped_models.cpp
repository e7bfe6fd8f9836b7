#include "inference/shipped_models.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "io/text.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

constexpr const char* kSuffix = ".safetensors";
// Files in models/ that are not diffusion models (the evaluation classifier) end with this.
constexpr const char* kClassifierSuffix = "-classifier";

}  // namespace

std::string shipped_models_dir() {
  if (const char* env = std::getenv("DDPM_MODELS_DIR"); env && *env) return env;
  return DDPM_MODELS_DIR;  // set for this file by CMakeLists.txt
}

std::vector<std::string> shipped_model_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(shipped_models_dir(), ec)) {
    const auto file = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !ends_with(file, kSuffix)) continue;
    const auto name = file.substr(0, file.size() - std::char_traits<char>::length(kSuffix));
    if (!ends_with(name, kClassifierSuffix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> shipped_model_path(const std::string& name) {
  // A name, not a path: no separators or dots, so "--model ./x" never silently means a shipped model.
  if (name.empty() || name.find_first_of("/\\.") != std::string::npos) return std::nullopt;
  const auto path = fs::path(shipped_models_dir()) / (name + kSuffix);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return path.string();
}

}  // namespace ddpm
