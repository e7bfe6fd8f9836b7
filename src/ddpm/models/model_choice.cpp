#include "ddpm/models/model_choice.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ddpm/models/model_kind.h"

namespace ddpm {
namespace {

// Feature-map sizes min(H, W) of each level of a U-Net with `levels` levels.
std::vector<int64_t> level_sizes(int64_t height, int64_t width, size_t levels) {
  std::vector<int64_t> sizes;
  for (int64_t s = std::min(height, width); sizes.size() < levels; s /= 2) sizes.push_back(s);
  return sizes;
}

// Each of the preset's attention sizes becomes the nearest (by ratio) of the new levels' sizes; a tie goes
// to the smaller, cheaper map.
std::vector<int64_t> nearest_levels(const std::vector<int64_t>& wanted, const std::vector<int64_t>& sizes) {
  std::vector<int64_t> out;
  if (sizes.empty()) return out;  // no levels: the U-Net's own check refuses the config
  for (int64_t r : wanted) {
    int64_t best = sizes.front();
    for (int64_t s : sizes) {
      const double d = std::abs(std::log(static_cast<double>(s) / r)), best_d = std::abs(std::log(static_cast<double>(best) / r));
      if (d < best_d || (d == best_d && s < best)) best = s;
    }
    if (std::find(out.begin(), out.end(), best) == out.end()) out.push_back(best);
  }
  return out;
}

}  // namespace

ModelConfig model_for_data(const std::string& preset, const std::vector<int64_t>& shape, const UNetShape& given,
                           std::string* chosen) {
  const bool image = shape.size() == 3;
  std::string name = preset;
  if (name.empty()) {
    if (shape.empty()) throw std::invalid_argument("choosing a network needs a preset or the data's shape");
    if (!image) name = "mlp-2d";
    else if (shape[0] == 3 && shape[1] >= 32 && shape[2] >= 32 && std::max(shape[1], shape[2]) <= 64) name = "cifar10";
    else if (std::max(shape[1], shape[2]) > 64) name = "celebahq256";
    else name = "fashion";
  }
  ModelConfig config = model_preset(name);
  if (chosen) *chosen = name;
  if (!shape.empty()) {
    try {
      config = fit_to_data(config, shape);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("preset '{}': {}", name, e.what()));
    }
  }
  if (!model_kind(config.arch).images) {
    if (!given.empty())
      throw std::invalid_argument(fmt::format("the U-Net settings (channels, levels, attention, dropout) do not apply "
                                              "to preset '{}', an MLP", name));
    return config;
  }
  auto& u = config.unet;
  if (given.base_channels) u.base_channels = *given.base_channels;
  if (given.channel_mult) u.channel_mult = *given.channel_mult;
  if (given.num_res_blocks) u.num_res_blocks = *given.num_res_blocks;
  if (given.dropout) u.dropout = *given.dropout;
  // The preset's intent is attention at a feature-map size, not at a level index: Ho et al. attend at 16x16
  // both at 32 and at 256 px.
  u.attention_resolutions = given.attention_resolutions
                                ? *given.attention_resolutions
                                : nearest_levels(u.attention_resolutions, level_sizes(u.image_height, u.image_width,
                                                                                       u.channel_mult.size()));
  return config;
}

}  // namespace ddpm
