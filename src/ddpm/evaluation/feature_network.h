// The feature space of the sample-quality metrics: ddpm's own classifier (its penultimate layer; the
// shipped models/fashion-classifier.safetensors by default), or any TorchScript module — e.g. an Inception
// network a user exported, for the standard FID on RGB data.
// A TorchScript feature network takes float32 images [B, C, H, W] in [-1, 1] (resizing and normalising
// them itself) and returns [B, F] (any trailing singleton dimensions are flattened).
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>

#include "ddpm/models/classifier.h"

namespace ddpm {

struct FeatureNetwork {
  std::string description;                                     // for reports: what the features are
  std::function<torch::Tensor(const torch::Tensor&)> forward;  // [B, C, H, W] → [B, F]
  std::shared_ptr<ClassifierImpl> classifier;                   // set for ddpm's classifier (class histograms)
};

// The shipped classifier's file: models/fashion-classifier.safetensors (inference/shipped_models.h's folder).
std::string shipped_classifier_path();

// Loads a classifier saved by `ddpm classifier train`.
FeatureNetwork classifier_feature_network(const std::string& path);

// Loads a TorchScript module (torch::jit::load); throws naming the file if it is not one.
FeatureNetwork torchscript_feature_network(const std::string& path);

// Features of images [n, C, H, W] in [-1, 1], `batch` at a time, without autograd: float64 [n, F].
torch::Tensor extract_features(const FeatureNetwork& network, const torch::Tensor& images, int64_t batch = 250);

}  // namespace ddpm
