#include "models/model_choice.h"

#include <stdexcept>

namespace ddpm {

ModelConfig model_for_data(const std::string& preset, const std::vector<int64_t>& shape, std::string* chosen) {
  const bool image = shape.size() == 3;
  std::string name = preset;
  if (name.empty()) {
    if (!image) name = "mlp-2d";
    else if (shape[0] == 3 && shape[1] >= 32 && shape[2] >= 32 && std::max(shape[1], shape[2]) <= 64) name = "cifar10";
    else if (std::max(shape[1], shape[2]) > 64) name = "celebahq256";
    else name = "fashion";
  }
  ModelConfig config = model_preset(name);
  try {
    config = fit_to_data(config, shape);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("preset '{}': {}", name, e.what()));
  }
  if (chosen) *chosen = name;
  return config;
}

}  // namespace ddpm
