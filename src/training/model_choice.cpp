#include "training/model_choice.h"

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
  if (image) {
    if (config.arch != "unet")
      throw std::invalid_argument(fmt::format("preset '{}' is for point data; images need a U-Net preset", name));
    config.unet.in_channels = shape[0];
    config.unet.image_height = shape[1];
    config.unet.image_width = shape[2];
  } else {
    if (config.arch != "mlp")
      throw std::invalid_argument(fmt::format("preset '{}' is a U-Net for images; point data needs mlp-2d", name));
    config.mlp.data_dim = shape.at(0);
  }
  if (chosen) *chosen = name;
  return config;
}

}  // namespace ddpm
