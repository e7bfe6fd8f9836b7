// Cross-entropy training of the evaluation classifier.
#include "ddpm/training/classifier_trainer.h"

#include <stdexcept>

#include "ddpm/core/random.h"
#include "ddpm/data/augment.h"
#include "ddpm/data/batch_order.h"

namespace ddpm {
namespace {

void check_labelled(const Dataset& data, const ClassifierConfig& config) {
  if (!data.is_image() || !data.labels.defined())
    throw std::invalid_argument(fmt::format("'{}' is not a labelled image data set", data.name));
  const auto shape = data.sample_shape();
  if (shape != std::vector<int64_t>{config.in_channels, config.image_height, config.image_width})
    throw std::invalid_argument(fmt::format("'{}' holds {}x{}x{} images, the classifier takes {}x{}x{}", data.name,
                                            shape[0], shape[1], shape[2], config.in_channels, config.image_height,
                                            config.image_width));
  const int64_t top = data.labels.max().item<int64_t>();
  if (data.labels.min().item<int64_t>() < 0 || top >= static_cast<int64_t>(config.class_names.size()))
    throw std::invalid_argument(fmt::format("'{}' has labels up to {}, the classifier knows {} classes", data.name, top,
                                            config.class_names.size()));
}

}  // namespace

Classifier train_classifier(const Dataset& train, const ClassifierConfig& config, const ClassifierTrainOptions& options,
                            const ClassifierProgress& progress) {
  check_labelled(train, config);
  if (options.epochs < 1 || options.lr <= 0) throw std::invalid_argument("classifier training needs epochs >= 1, lr > 0");
  torch::manual_seed(options.seed);  // initial weights and dropout come from LibTorch's default generator
  Classifier net(config);
  net->train();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(options.lr));
  BatchOrder batches(train.size(), options.batch, options.seed);
  auto flips = make_generator(options.seed + 1);
  const int64_t steps = options.epochs * batches.batches_per_epoch();
  for (int64_t step = 0; step < steps; ++step) {
    const double lr = 0.5 * options.lr * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(steps)));
    static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[0].options()).lr(lr);
    const auto indices = batches.next().indices;
    auto x = train.batch(indices);
    if (options.flip) x = flip_where(x, random_flip_mask(x.size(0), flips));
    auto loss = torch::cross_entropy_loss(net->forward(x), train.labels.index_select(0, indices));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (progress) progress(step + 1, steps, batches.state().epoch, loss.item<double>());
  }
  net->eval();
  return net;
}

double classifier_accuracy(ClassifierImpl& net, const Dataset& data) {
  check_labelled(data, net.config());
  net.eval();
  int64_t correct = 0;
  const int64_t chunk = 2000;  // examples converted to float at once
  for (int64_t begin = 0; begin < data.size(); begin += chunk) {
    auto indices = torch::arange(begin, std::min(data.size(), begin + chunk), torch::kLong);
    correct += classify(net, data.batch(indices)).eq(data.labels.index_select(0, indices)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

}  // namespace ddpm
