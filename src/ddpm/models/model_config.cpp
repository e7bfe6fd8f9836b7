// The named presets (Ho et al.'s CIFAR-10 and 256×256 models, a small Fashion-MNIST U-Net, the 2-D MLP).
// What differs between kinds of network (JSON, building, shapes) is in the model-kind table.
#include "ddpm/models/model_config.h"

#include <stdexcept>

#include <fmt/ranges.h>

namespace ddpm {

std::vector<std::string> preset_names() { return {"cifar10", "fashion", "celebahq256", "mlp-2d"}; }

ModelConfig model_preset(const std::string& name) {
  ModelConfig c;
  auto& u = c.unet;
  if (name == "cifar10") {  // Ho et al. CIFAR-10, = google/ddpm-cifar10-32
    u.in_channels = 3, u.image_height = u.image_width = 32, u.base_channels = 128;
    u.channel_mult = {1, 2, 2, 2}, u.attention_resolutions = {16}, u.dropout = 0.1;
  } else if (name == "fashion") {  // the same design scaled to 28×28×1
    u.in_channels = 1, u.image_height = u.image_width = 28, u.base_channels = 32;
    u.channel_mult = {1, 2, 2}, u.attention_resolutions = {7}, u.dropout = 0.1;
  } else if (name == "celebahq256") {  // Ho et al. 256×256 (CelebA-HQ, LSUN); no dropout there
    u.in_channels = 3, u.image_height = u.image_width = 256, u.base_channels = 128;
    u.channel_mult = {1, 1, 2, 2, 4, 4}, u.attention_resolutions = {16}, u.dropout = 0.0;
  } else if (name == "mlp-2d") {  // 2-D mixtures: ~42k parameters, trains in about a minute on a CPU
    c.arch = "mlp";
    c.mlp = MLPConfig{};
  } else {
    throw std::invalid_argument(fmt::format("unknown model preset \"{}\" (known: {})", name,
                                            fmt::join(preset_names(), ", ")));
  }
  return c;
}

int64_t parameter_count(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

}  // namespace ddpm
