// The network a run gets when the user names only the data (or a preset that must fit the data):
// `fashion` for 28x28 gray images, `cifar10` for 32x32 RGB, `mlp-2d` for points; other image shapes
// take the closest preset's design with the data's channels and size.
#pragma once

#include <string>
#include <vector>

#include "models/model_config.h"

namespace ddpm {

// sample_shape: [C, H, W] for images, [d] for points. `preset` may be empty (choose from the data).
// Throws if the preset cannot take this data (an MLP on images, a U-Net on points).
ModelConfig model_for_data(const std::string& preset, const std::vector<int64_t>& sample_shape, std::string* chosen = nullptr);

}  // namespace ddpm
