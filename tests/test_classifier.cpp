// The evaluation classifier: file round trip, training on a toy problem, feature networks, and the
// shipped models/fashion-classifier.safetensors at its stated test accuracy.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "ddpm/core/random.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/evaluation/feature_network.h"
#include "ddpm/models/classifier.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/model_file.h"
#include "temp_dir.h"
#include "ddpm/training/classifier_trainer.h"

using namespace ddpm;

namespace {

ClassifierConfig small_config() {
  ClassifierConfig c;
  c.image_height = c.image_width = 8;
  c.channels = {4, 8};
  c.feature_dim = 16;
  c.class_names = {"dark", "bright"};
  return c;
}

// Class 0: a dark left half, class 1: a dark right half — one flip turns one into the other, so the
// classifier must learn them without flips.
Dataset toy_data(int64_t n, at::Generator& gen) {
  auto labels = torch::randint(0, 2, {n}, gen, torch::kLong);
  auto images = torch::randint(150, 256, {n, 1, 8, 8}, gen, torch::kLong);
  auto left = labels.eq(0).view({n, 1, 1, 1});
  images.slice(3, 0, 4).masked_fill_(left, 20);
  images.slice(3, 4, 8).masked_fill_(left.logical_not(), 20);
  return make_image_dataset("toy", images.to(torch::kUInt8), labels);
}

}  // namespace

TEST(EvalClassifier, SavedFileRebuildsTheSameNetwork) {
  test::TempDir dir;
  torch::manual_seed(0);
  Classifier net(small_config());
  net->eval();
  save_classifier(dir.file("c.safetensors"), *net, {{"ddpm.test_accuracy", "0.5"}});
  auto loaded = load_classifier(dir.file("c.safetensors"));
  auto x = torch::rand({3, 1, 8, 8}) * 2 - 1;
  EXPECT_TRUE(torch::equal(loaded.net->forward(x), net->forward(x)));
  EXPECT_EQ(loaded.net->config().class_names, small_config().class_names);
  EXPECT_EQ(loaded.metadata.at("ddpm.test_accuracy"), "0.5");
  EXPECT_THROW(save_classifier(dir.file("d.safetensors"), *net, {{kClassifierConfigKey, "{}"}}), std::invalid_argument);
  // A diffusion model file is not a classifier: the error names the file.
  save_model(dir.file("m.safetensors"), *build_model(model_preset("mlp-2d")), model_preset("mlp-2d"));
  try {
    load_classifier(dir.file("m.safetensors"));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("m.safetensors"), std::string::npos) << e.what();
  }
}

TEST(EvalClassifier, LearnsASeparableToyProblemReproducibly) {
  auto gen = make_generator(1);
  const auto train = toy_data(512, gen), test = toy_data(256, gen);
  ClassifierTrainOptions options;
  options.epochs = 2;
  options.batch = 32;
  options.flip = false;
  auto net = train_classifier(train, small_config(), options);
  EXPECT_EQ(classifier_accuracy(*net, test), 1.0);
  auto again = train_classifier(train, small_config(), options);  // same seed, same weights
  auto x = test.batch(torch::arange(8));
  EXPECT_TRUE(torch::equal(net->features(x), again->features(x)));
  // Shape and label checks name the data.
  auto wrong = small_config();
  wrong.image_height = 16;
  EXPECT_THROW(train_classifier(train, wrong, options), std::invalid_argument);
}

TEST(EvalClassifier, TorchScriptFeatureNetworks) {
  test::TempDir dir;
  torch::jit::Module module("pixels");
  module.define("def forward(self, x):\n  return x.flatten(1) * 2.0\n");
  module.save(dir.file("pixels.pt"));
  const auto network = torchscript_feature_network(dir.file("pixels.pt"));
  auto images = torch::rand({5, 1, 4, 4});
  auto features = extract_features(network, images, /*batch=*/2);
  EXPECT_EQ(features.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(features, images.flatten(1).to(torch::kFloat64) * 2.0));
  EXPECT_EQ(network.classifier, nullptr);
  // Not TorchScript: one clear error naming the file.
  std::ofstream(dir.file("junk.pt")) << "not a zip archive";
  try {
    torchscript_feature_network(dir.file("junk.pt"));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("junk.pt: not a TorchScript module"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_THROW(torchscript_feature_network(dir.file("missing.pt")), std::runtime_error);
}

// ~10 s: 10,000 test images through the shipped classifier.
TEST(EvalClassifier, ShippedClassifierReachesItsStatedAccuracySlow) {
  const auto network = classifier_feature_network(shipped_classifier_path());
  ASSERT_NE(network.classifier, nullptr);
  auto loaded = load_classifier(shipped_classifier_path());
  EXPECT_EQ(loaded.net->config().class_names, fashion_mnist_class_names());
  const auto test = load_dataset("fashion-mnist", DataOptions{"test", 0, 0});
  const double accuracy = classifier_accuracy(*loaded.net, test);
  EXPECT_GE(accuracy, 0.90);  // the target: at least 90 % (the shipped file: 90.34 %)
  // The file states its accuracy to 4 decimals; evaluation is deterministic up to summation order.
  EXPECT_NEAR(accuracy, std::stod(loaded.metadata.at("ddpm.test_accuracy")), 1.5e-4);
}
