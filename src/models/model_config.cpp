// ModelConfig ⇄ JSON, the named presets (Ho et al.'s CIFAR-10 and 256×256 models, a small Fashion-MNIST
// U-Net, the 2-D MLP) and the factory that builds a network from a config.
#include "models/model_config.h"

#include <set>
#include <stdexcept>

#include <fmt/ranges.h>

#include "io/json_integer.h"
#include "models/mlp_denoiser.h"
#include "models/unet.h"

namespace ddpm {

using nlohmann::json;

namespace {

// Reads j[key] as T; a missing key or a wrong type is an error naming `where.key`.
template <typename T>
T field(const json& j, const std::string& where, const std::string& key) {
  if (!j.contains(key)) throw std::invalid_argument(fmt::format("model config: missing field {}.{}", where, key));
  try {
    if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, std::vector<int64_t>>)
      return json_integer<T>(j.at(key), fmt::format("model config: field {}.{}", where, key));
    else
      return j.at(key).get<T>();
  } catch (const json::exception& e) {
    throw std::invalid_argument(fmt::format("model config: field {}.{} has the wrong type ({}): {}", where, key,
                                            j.at(key).dump(), e.what()));
  }
}

// Unknown keys are typos or a newer format: both must not be silently ignored.
void check_keys(const json& j, const std::string& where, const std::set<std::string>& known) {
  if (!j.is_object()) throw std::invalid_argument(fmt::format("model config: {} must be a JSON object", where));
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) throw std::invalid_argument(fmt::format("model config: unknown field {}.{}", where, key));
}

}  // namespace

void to_json(json& j, const ModelConfig& c) {
  j = json{{"arch", c.arch}};
  if (c.arch == "unet") {
    const auto& u = c.unet;
    j["unet"] = {{"in_channels", u.in_channels},   {"image_height", u.image_height},
                 {"image_width", u.image_width},   {"base_channels", u.base_channels},
                 {"channel_mult", u.channel_mult}, {"num_res_blocks", u.num_res_blocks},
                 {"attention_resolutions", u.attention_resolutions},
                 {"mid_attention", u.mid_attention}, {"dropout", u.dropout},
                 {"norm_groups", u.norm_groups},   {"norm_eps", u.norm_eps}};
  } else {
    const auto& m = c.mlp;
    j["mlp"] = {{"data_dim", m.data_dim}, {"hidden", m.hidden}, {"depth", m.depth}, {"time_embed_dim", m.time_embed_dim}};
  }
}

void from_json(const json& j, ModelConfig& c) {
  check_keys(j, "model_config", {"arch", "unet", "mlp"});
  c.arch = field<std::string>(j, "model_config", "arch");
  if (c.arch == "unet") {
    const json& u = field<json>(j, "model_config", "unet");
    const std::string w = "model_config.unet";
    check_keys(u, w, {"in_channels", "image_height", "image_width", "base_channels", "channel_mult", "num_res_blocks",
                      "attention_resolutions", "mid_attention", "dropout", "norm_groups", "norm_eps"});
    auto& o = c.unet;
    o.in_channels = field<int64_t>(u, w, "in_channels");
    o.image_height = field<int64_t>(u, w, "image_height");
    o.image_width = field<int64_t>(u, w, "image_width");
    o.base_channels = field<int64_t>(u, w, "base_channels");
    o.channel_mult = field<std::vector<int64_t>>(u, w, "channel_mult");
    o.num_res_blocks = field<int64_t>(u, w, "num_res_blocks");
    o.attention_resolutions = field<std::vector<int64_t>>(u, w, "attention_resolutions");
    o.mid_attention = field<bool>(u, w, "mid_attention");
    o.dropout = field<double>(u, w, "dropout");
    o.norm_groups = field<int64_t>(u, w, "norm_groups");
    o.norm_eps = field<double>(u, w, "norm_eps");
  } else if (c.arch == "mlp") {
    const json& m = field<json>(j, "model_config", "mlp");
    const std::string w = "model_config.mlp";
    check_keys(m, w, {"data_dim", "hidden", "depth", "time_embed_dim"});
    c.mlp.data_dim = field<int64_t>(m, w, "data_dim");
    c.mlp.hidden = field<int64_t>(m, w, "hidden");
    c.mlp.depth = field<int64_t>(m, w, "depth");
    c.mlp.time_embed_dim = field<int64_t>(m, w, "time_embed_dim");
  } else {
    throw std::invalid_argument(fmt::format("model config: arch must be \"unet\" or \"mlp\", got \"{}\"", c.arch));
  }
}

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

NoiseNet build_model(const ModelConfig& config) {
  if (config.arch == "unet") return std::make_shared<UNetImpl>(config.unet);
  if (config.arch == "mlp") return std::make_shared<MLPDenoiserImpl>(config.mlp);
  throw std::invalid_argument(fmt::format("model config: arch must be \"unet\" or \"mlp\", got \"{}\"", config.arch));
}

int64_t parameter_count(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

}  // namespace ddpm
