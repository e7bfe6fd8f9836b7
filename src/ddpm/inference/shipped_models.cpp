#include "ddpm/inference/shipped_models.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "ddpm/io/text.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

constexpr const char* kSuffix = ".safetensors";
// Files in models/ that are not diffusion models (the evaluation classifier) end with this.
constexpr const char* kClassifierSuffix = "-classifier";

// The models of an installed package: DDPM_MODELS_FROM_LIBDIR (set for this file by CMakeLists.txt, e.g.
// ../../share/ddpm/models) from the folder of the libddpm this code was loaded from, so a moved prefix
// still finds them. Empty when that folder does not exist (the build tree).
std::string installed_models_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&installed_models_dir), &info) == 0 || info.dli_fname == nullptr) return "";
  std::error_code ec;
  const auto library = fs::canonical(info.dli_fname, ec);
  if (ec) return "";
  const auto dir = (library.parent_path() / DDPM_MODELS_FROM_LIBDIR).lexically_normal();
  return fs::is_directory(dir, ec) ? dir.string() : "";
}

}  // namespace

std::string shipped_models_dir() {
  if (const char* env = std::getenv("DDPM_MODELS_DIR"); env && *env) return env;
  if (auto installed = installed_models_dir(); !installed.empty()) return installed;
  return DDPM_MODELS_DIR;  // the source tree's, set for this file by CMakeLists.txt
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
