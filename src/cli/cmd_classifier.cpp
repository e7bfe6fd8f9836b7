// `ddpm classifier train`: the small CNN whose features `ddpm eval --metric fid` measures samples in.
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/io/output_path.h"
#include "ddpm/training/classifier_trainer.h"
#include "ddpm/io/progress_line.h"

namespace ddpm::cli {
namespace {

struct ClassifierFlags {
  std::string data = "fashion-mnist", out;
  ClassifierTrainOptions options;
  bool no_flip = false, force = false;
};

std::vector<std::string> class_names(const std::string& spec, const Dataset& data) {
  if (spec == "fashion-mnist") return fashion_mnist_class_names();
  std::vector<std::string> names;
  for (int64_t c = 0; c <= data.labels.max().item<int64_t>(); ++c) names.push_back(std::to_string(c));
  return names;
}

void run_train(const ClassifierFlags& f) {
  check_output_files({{f.out, {".safetensors"}}}, {{}, f.force});
  const auto train = load_dataset(f.data, DataOptions{"train", 0, 0});
  const auto test = load_dataset(f.data, DataOptions{"test", 0, 0});
  if (!train.labels.defined()) throw std::invalid_argument(fmt::format("'{}' has no labels to train a classifier on", f.data));
  ClassifierConfig config;
  const auto shape = train.sample_shape();
  config.in_channels = shape.at(0);
  config.image_height = shape.at(1);
  config.image_width = shape.at(2);
  config.class_names = class_names(f.data, train);
  ClassifierTrainOptions options = f.options;
  options.flip = !f.no_flip;

  const auto start = std::chrono::steady_clock::now();
  std::fprintf(stderr, "training the classifier on %s (%lld images, %lld epochs, batch %lld, seed %llu)\n",
               train.name.c_str(), static_cast<long long>(train.size()), static_cast<long long>(options.epochs),
               static_cast<long long>(options.batch), static_cast<unsigned long long>(options.seed));
  std::unique_ptr<ProgressLine> progress;  // the step count is known at the first step
  auto net = train_classifier(train, config, options, [&](int64_t step, int64_t steps, int64_t epoch, double loss) {
    if (!progress) progress = std::make_unique<ProgressLine>("step", steps);
    progress->update(step, fmt::format("epoch {}  batch loss {:.4f}", epoch + 1, loss));
  });
  if (progress) progress->finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double accuracy = classifier_accuracy(*net, test);
  save_classifier(f.out, *net,
                  {{"ddpm.data", f.data}, {"ddpm.epochs", std::to_string(options.epochs)},
                   {"ddpm.batch", std::to_string(options.batch)}, {"ddpm.lr", fmt::format("{}", options.lr)},
                   {"ddpm.flip", options.flip ? "true" : "false"}, {"ddpm.seed", std::to_string(options.seed)},
                   {"ddpm.test_accuracy", fmt::format("{:.4f}", accuracy)},
                   {"ddpm.train_seconds", fmt::format("{:.0f}", seconds)}});
  std::printf("test accuracy %.2f%% on %s (%lld images); trained in %.0f s\nwrote %s\n", 100.0 * accuracy,
              test.name.c_str(), static_cast<long long>(test.size()), seconds, f.out.c_str());
}

}  // namespace

Subcommand add_classifier(CLI::App& parent) {
  auto* group = parent.add_subcommand("classifier", "the feature network of `ddpm eval --metric fid`");
  group->require_subcommand(1, 1);
  auto* app = group->add_subcommand("train", "train the small CNN classifier on a labelled image data set");
  auto f = std::make_shared<ClassifierFlags>();
  auto& o = f->options;
  app->add_option("--data", f->data, "labelled image data (train split to learn, test split to report accuracy)")
      ->capture_default_str();
  app->add_option("--out", f->out, "classifier file to write (.safetensors)")->required();
  app->add_option("--epochs", o.epochs, "passes over the training set")->capture_default_str()->check(positive());
  app->add_option("--batch", o.batch, "batch size")->capture_default_str()->check(positive());
  app->add_option("--lr", o.lr, "peak Adam learning rate (cosine decay to 0)")->capture_default_str()->check(positive());
  app->add_option("--seed", o.seed, "seed of weights, batch order, flips and dropout")->capture_default_str();
  app->add_flag("--no-flip", f->no_flip, "no random horizontal flips");
  app->add_flag("--force", f->force, "replace an existing classifier file");
  return {app, [f] { run_train(*f); }};
}

}  // namespace ddpm::cli
