// The evaluation classifier: layers, config JSON, file.
#include "ddpm/models/classifier.h"

#include <stdexcept>

#include "ddpm/models/model_file.h"

namespace ddpm {

using nlohmann::json;

namespace {

json config_json(const ClassifierConfig& c) {
  return {{"in_channels", c.in_channels}, {"image_height", c.image_height}, {"image_width", c.image_width},
          {"channels", c.channels},       {"feature_dim", c.feature_dim},   {"dropout", c.dropout},
          {"class_names", c.class_names}};
}

ClassifierConfig config_from_json(const json& j) {
  ClassifierConfig c;
  j.at("in_channels").get_to(c.in_channels);
  j.at("image_height").get_to(c.image_height);
  j.at("image_width").get_to(c.image_width);
  j.at("channels").get_to(c.channels);
  j.at("feature_dim").get_to(c.feature_dim);
  j.at("dropout").get_to(c.dropout);
  j.at("class_names").get_to(c.class_names);
  return c;
}

void check_config(const ClassifierConfig& c) {
  if (c.in_channels < 1 || c.feature_dim < 1 || c.channels.empty() || c.class_names.size() < 2)
    throw std::invalid_argument("classifier config: needs channels >= 1, a conv level, features >= 1 and >= 2 classes");
  const int64_t shrink = int64_t{1} << c.channels.size();
  if (c.image_height < shrink || c.image_width < shrink)
    throw std::invalid_argument(fmt::format("classifier config: {}x{} images are too small for {} pooling levels",
                                            c.image_height, c.image_width, c.channels.size()));
}

}  // namespace

ClassifierImpl::ClassifierImpl(ClassifierConfig config) : config_(std::move(config)) {
  check_config(config_);
  convs = register_module("convs", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  int64_t in = config_.in_channels, h = config_.image_height, w = config_.image_width;
  for (int64_t out : config_.channels) {
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)));
    norms->push_back(torch::nn::BatchNorm2d(out));
    in = out;
    h /= 2;  // max-pool 2×2 floors odd sizes
    w /= 2;
  }
  fc_features = register_module("fc_features", torch::nn::Linear(in * h * w, config_.feature_dim));
  dropout = register_module("dropout", torch::nn::Dropout(config_.dropout));
  fc_logits = register_module("fc_logits",
                              torch::nn::Linear(config_.feature_dim, static_cast<int64_t>(config_.class_names.size())));
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == config_.in_channels && x.size(2) == config_.image_height &&
                  x.size(3) == config_.image_width,
              "the classifier takes [B, ", config_.in_channels, ", ", config_.image_height, ", ", config_.image_width,
              "] images, got ", x.sizes());
  auto h = x;
  for (size_t i = 0; i < convs->size(); ++i) {
    h = convs[i]->as<torch::nn::Conv2d>()->forward(h);
    h = torch::max_pool2d(torch::relu(norms[i]->as<torch::nn::BatchNorm2d>()->forward(h)), 2);
  }
  return torch::relu(fc_features->forward(h.flatten(1)));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) { return fc_logits->forward(dropout->forward(features(x))); }

void save_classifier(const std::string& path, const ClassifierImpl& net,
                     const std::map<std::string, std::string>& extra_metadata) {
  save_module_file(path, net, kClassifierConfigKey, config_json(net.config()).dump(), extra_metadata,
                   "save_classifier");
}

LoadedClassifier load_classifier(const std::string& path) {
  auto content = read_safetensors(path);
  const auto it = content.metadata.find(kClassifierConfigKey);
  if (it == content.metadata.end())
    throw std::runtime_error(fmt::format("{}: no \"{}\" metadata; not a classifier saved by `ddpm classifier train`",
                                         path, kClassifierConfigKey));
  ClassifierConfig config;
  try {
    config = config_from_json(json::parse(it->second));
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: bad \"{}\" metadata: {}", path, kClassifierConfigKey, e.what()));
  }
  LoadedClassifier loaded{Classifier(config), {}};
  load_weights_into(*loaded.net, content, path);
  loaded.net->eval();
  loaded.metadata = std::move(content.metadata);
  return loaded;
}

torch::Tensor classify(ClassifierImpl& net, const torch::Tensor& images, int64_t batch) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < images.size(0); begin += batch)
    parts.push_back(net.forward(images.slice(0, begin, begin + batch)).argmax(1));
  return torch::cat(parts);
}

}  // namespace ddpm
