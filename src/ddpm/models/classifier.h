// The small CNN that ddpm trains on Fashion-MNIST to judge samples offline: its penultimate layer
// is the feature space of the Fréchet distance and of precision/recall (the role Inception's pool layer
// plays in FID), its argmax the class histogram of generated samples.
// Layout per entry of `channels`: 3×3 conv → BatchNorm → ReLU → 2×2 max-pool; then flatten → linear → ReLU
// (the features) → dropout → linear (the class logits).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace ddpm {

struct ClassifierConfig {
  int64_t in_channels = 1;
  int64_t image_height = 28;
  int64_t image_width = 28;
  std::vector<int64_t> channels = {16, 32};  // one conv level each; every level halves H and W
  int64_t feature_dim = 128;                 // width of the penultimate layer
  double dropout = 0.3;
  std::vector<std::string> class_names;      // one per class; their number is the output width
};

class ClassifierImpl : public torch::nn::Module {
 public:
  explicit ClassifierImpl(ClassifierConfig config);

  // x: [B, C, H, W] in [-1, 1] (Dataset::batch's range) → [B, feature_dim].
  torch::Tensor features(const torch::Tensor& x);
  // x → class logits [B, classes].
  torch::Tensor forward(const torch::Tensor& x);

  const ClassifierConfig& config() const { return config_; }

 private:
  ClassifierConfig config_;
  torch::nn::ModuleList convs{nullptr}, norms{nullptr};
  torch::nn::Linear fc_features{nullptr}, fc_logits{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(Classifier);

inline constexpr const char* kClassifierConfigKey = "ddpm.classifier_config";

// Weights as float32 safetensors with the config (JSON under kClassifierConfigKey) and `extra_metadata`
// (provenance: command, seed, accuracy). Atomic.
void save_classifier(const std::string& path, const ClassifierImpl& net,
                     const std::map<std::string, std::string>& extra_metadata = {});

struct LoadedClassifier {
  Classifier net;  // in eval mode
  std::map<std::string, std::string> metadata;
};
// Throws naming the file when it is not a classifier saved by ddpm (or its tensors do not fit the config).
LoadedClassifier load_classifier(const std::string& path);

// Predicted classes (int64 [n]) of images [n, C, H, W] in [-1, 1], in batches, without autograd.
torch::Tensor classify(ClassifierImpl& net, const torch::Tensor& images, int64_t batch = 500);

}  // namespace ddpm
