// Feature networks: ddpm's classifier or a TorchScript module.
#include "ddpm/evaluation/feature_network.h"

#include <torch/script.h>

#include <fmt/ranges.h>

#include <filesystem>
#include <stdexcept>

#include "ddpm/inference/shipped_models.h"

namespace ddpm {

std::string shipped_classifier_path() {
  return (std::filesystem::path(shipped_models_dir()) / "fashion-classifier.safetensors").string();
}

FeatureNetwork classifier_feature_network(const std::string& path) {
  auto loaded = load_classifier(path);
  FeatureNetwork network;
  network.description = fmt::format("{} ({}-d penultimate layer)", std::filesystem::path(path).stem().string(),
                                    loaded.net->config().feature_dim);
  network.classifier = loaded.net.ptr();
  network.forward = [net = network.classifier](const torch::Tensor& x) { return net->features(x); };
  return network;
}

FeatureNetwork torchscript_feature_network(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw std::runtime_error(fmt::format("{}: no such file", path));
  auto module = std::make_shared<torch::jit::Module>();
  try {
    *module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw std::runtime_error(fmt::format("{}: not a TorchScript module ({})", path, what.substr(0, what.find('\n'))));
  }
  module->eval();
  FeatureNetwork network;
  network.description = fmt::format("TorchScript {}", path);
  network.forward = [module](const torch::Tensor& x) { return module->forward({x}).toTensor(); };
  return network;
}

torch::Tensor extract_features(const FeatureNetwork& network, const torch::Tensor& images, int64_t batch) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < images.size(0); begin += batch) {
    auto chunk = images.slice(0, begin, begin + batch).to(torch::kFloat32);
    auto f = network.forward(chunk);
    if (f.dim() < 2 || f.size(0) != chunk.size(0))
      throw std::runtime_error(fmt::format("the feature network returned shape [{}] for a batch of {} images; "
                                           "expected [{}, F]", fmt::join(f.sizes(), ", "), chunk.size(0), chunk.size(0)));
    parts.push_back(f.flatten(1).to(torch::kFloat64));
  }
  return torch::cat(parts);
}

}  // namespace ddpm
