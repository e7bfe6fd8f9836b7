// The network a run gets when the user names only the data (or a preset that must fit the data):
// `fashion` for 28x28 gray images, `cifar10` for 32x32 RGB, `mlp-2d` for points; other image shapes
// take the closest preset's design with the data's channels and size. Any U-Net setting can replace the
// preset's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ddpm/models/model_config.h"

namespace ddpm {

// U-Net settings that replace a preset's (unset: the preset's, fitted to the data).
struct UNetShape {
  std::optional<int64_t> base_channels;
  std::optional<std::vector<int64_t>> channel_mult;
  std::optional<int64_t> num_res_blocks;
  std::optional<std::vector<int64_t>> attention_resolutions;  // feature-map sizes min(H, W), as given
  std::optional<double> dropout;
  bool empty() const { return !base_channels && !channel_mult && !num_res_blocks && !attention_resolutions && !dropout; }
};

// sample_shape: [C, H, W] for images, [d] for points; empty: the preset's own input. `preset` may be empty
// (choose from the data). A preset's attention moves to this data's level nearest in size to the preset's
// own (`fashion`'s 7x7 at 28 px becomes 8x8 at 32 px), after `shape`'s channel_mult if it sets one.
// Throws if the preset cannot take this data (an MLP on images, a U-Net on points) or `shape` is set for an MLP.
ModelConfig model_for_data(const std::string& preset, const std::vector<int64_t>& sample_shape,
                           const UNetShape& shape = {}, std::string* chosen = nullptr);

}  // namespace ddpm
