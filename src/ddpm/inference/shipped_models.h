// Models shipped with ddpm (the repository's models/ folder), found by name: `--model fashion` means
// models/fashion.safetensors. The folder is, in order: DDPM_MODELS_DIR from the environment; an
// installed package's (share/ddpm/models beside the lib folder libddpm was loaded from); the source tree
// the build was configured from.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ddpm {

std::string shipped_models_dir();
// Names of the shipped diffusion models (files NAME.safetensors in the folder, sorted).
std::vector<std::string> shipped_model_names();
// The file of the shipped model `name`, if there is one.
std::optional<std::string> shipped_model_path(const std::string& name);

}  // namespace ddpm
