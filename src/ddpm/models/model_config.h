// The full description of a noise-prediction network: a plain struct that round-trips through JSON and
// is stored with every saved model, so a model rebuilds from its file alone.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/core/prediction.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

struct UNetConfig {
  int64_t in_channels = 1;                         // 1 (gray), 3 (RGB), 4, ...
  int64_t image_height = 28;
  int64_t image_width = 28;
  int64_t base_channels = 32;                      // Ho et al. CIFAR-10: 128
  std::vector<int64_t> channel_mult = {1, 2, 2};   // per resolution level
  int64_t num_res_blocks = 2;                      // per level
  std::vector<int64_t> attention_resolutions = {7};  // feature-map sizes (min(H, W)) with self-attention
  bool mid_attention = true;
  double dropout = 0.1;
  int64_t norm_groups = 32;
  double norm_eps = 1e-6;                          // diffusers' UNet2DModel value
  // Where published diffusers models differ from Ho et al. (whose values are the defaults):
  int64_t attention_head_dim = 0;   // channels per attention head; 0: one head over all channels
  bool flip_sin_to_cos = false;     // the sinusoid as [cos, sin] instead of [sin, cos]
  int64_t freq_shift = 1;           // sinusoid frequencies exp(-ln(10000) i / (half - freq_shift)): 0 or 1
  int64_t downsample_padding = 0;   // 0: one zero row/column at the bottom/right (Ho et al.); 1: one on every side
};

struct MLPConfig {
  int64_t data_dim = 2;      // d
  int64_t hidden = 128;      // width
  int64_t depth = 3;         // hidden layers
  int64_t time_embed_dim = 64;
};

// `arch` names the model kind (models/model_kinds.cpp's table); the sub-config of that kind is used.
struct ModelConfig {
  std::string arch = "unet";  // one of model_kinds(): unet | mlp
  UNetConfig unet;
  MLPConfig mlp;
  // A class-conditional network's classes, by name in label order (Ho & Salimans 2021); empty: unconditional
  // (no class embedding, the files as before). Label class_names.size() is the null label, "no class".
  std::vector<std::string> class_names;
  // What the network's output is (core/prediction.h); every file before the choice predicts ε.
  Prediction prediction = Prediction::epsilon;

  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
  bool conditional() const { return !class_names.empty(); }
};

// The most classes a conditional network takes (a limit far above any labelled data set, so that a count
// from a corrupt file is refused before an embedding is allocated).
inline constexpr int64_t kMaxClasses = 100000;

// Throws std::invalid_argument naming `where` unless the names are at most kMaxClasses, non-empty,
// distinct, not "none" (which asks for no class), and a name that is a number is its own label (so that
// a class asked for by name or by index means one class).
void check_class_names(const std::vector<std::string>& names, const std::string& where);

// The label of a class given by name or by index (as text), or the null label for "none"; throws
// std::invalid_argument listing the classes otherwise (and for any class of an unconditional model).
int64_t class_label(const ModelConfig& config, const std::string& name_or_index);

// The model kinds, and one help line for each.
std::vector<std::string> model_kinds();
std::vector<std::string> model_kind_help();

void to_json(nlohmann::json& j, const ModelConfig& c);
void from_json(const nlohmann::json& j, ModelConfig& c);  // throws on missing/invalid fields

// Named presets: cifar10, fashion, celebahq256 (U-Nets) and mlp-2d (MLP).
std::vector<std::string> preset_names();
ModelConfig model_preset(const std::string& name);  // throws std::invalid_argument for unknown names

NoiseNet build_model(const ModelConfig& config);
// The shape of one sample of the model's data: [C, H, W] for images, [d] for points.
std::vector<int64_t> sample_shape(const ModelConfig& config);
// Whether the model's samples are images in [-1, 1]: then every sampler clips its x̂_0 to that range and
// the samples are written as pictures (otherwise: points, as CSV).
bool samples_are_images(const ModelConfig& config);
// A --precision name for this network on `device`: auto is bf16 where the device has native bf16 and the
// model kind's products pay for it (runtime/precision.h). Throws std::invalid_argument for an unknown name.
Precision choose_precision(const std::string& name, c10::Device device, const ModelConfig& config);
// One line describing the network's shape (`ddpm info`).
std::string describe_model(const ModelConfig& config);
// The config fitted to data whose samples have `shape` (channels and size, or dimension); throws if this
// kind cannot take such data.
ModelConfig fit_to_data(ModelConfig config, const std::vector<int64_t>& shape);
int64_t parameter_count(const torch::nn::Module& model);
// Forward FLOPs for one sample, counted from the architecture (multiply-add = 2 FLOPs).
int64_t forward_flops_per_sample(const ModelConfig& config);

}  // namespace ddpm
