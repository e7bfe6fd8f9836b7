// `ddpm eval`'s two measurements of a trained model.
#include "evaluation/model_evaluation.h"

#include <chrono>
#include <stdexcept>

#include "core/random.h"
#include "evaluation/frechet_distance.h"
#include "evaluation/precision_recall.h"
#include "inference/network_predictor.h"
#include "runtime/clock.h"

namespace ddpm {
namespace {

void check_images_fit(const TrainedModel& model, const Dataset& test) {
  if (!test.is_image())
    throw std::invalid_argument(fmt::format("'{}' is point data; ddpm eval measures 8-bit image models", test.name));
  const auto shape = sample_shape(model.config);
  if (test.sample_shape() != shape)
    throw std::invalid_argument(fmt::format("'{}' holds {}x{}x{} images, the model makes {}x{}x{}", test.name,
                                            test.sample_shape()[0], test.sample_shape()[1], test.sample_shape()[2],
                                            shape[0], shape[1], shape[2]));
}

// Onto the 256-level grid of 8-bit images, in [-1, 1].
torch::Tensor quantize(const torch::Tensor& x) {
  return ((x.clamp(-1.0, 1.0) + 1.0) * 127.5).round() / 127.5 - 1.0;
}

SetQuality compare(const torch::Tensor& reference, const FeatureStatistics& reference_stats,
                   const torch::Tensor& candidate, int64_t k) {
  const auto pr = precision_recall(reference, candidate, k);
  return {frechet_distance(reference_stats, feature_statistics(candidate)), pr.precision, pr.recall};
}

std::vector<int64_t> histogram(ClassifierImpl& classifier, const torch::Tensor& images) {
  const int64_t classes = static_cast<int64_t>(classifier.config().class_names.size());
  auto counts = torch::bincount(classify(classifier, images), {}, classes);
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + classes);
}

}  // namespace

NllReport evaluate_nll(TrainedModel& model, const Dataset& test, const NllOptions& options,
                       const BoundProgress& progress) {
  check_images_fit(model, test);
  if (options.n < 1 || options.n > test.size())
    throw std::invalid_argument(fmt::format("n (test examples) must be between 1 and the test set's {}, got {}",
                                            test.size(), options.n));
  const auto start = Clock::now();
  const auto& schedule = model.schedule;
  auto gen = make_generator(options.seed);
  const auto subset = torch::randperm(test.size(), gen, torch::kLong).slice(0, 0, options.n);
  auto predictor = network_predictor(*model.net, options.precision);

  NllReport report;
  report.n = options.n;
  report.terms = variational_bound(schedule, predictor, test.batch(subset), gen, options.bound, progress);
  report.bits_per_dim = mean_with_error(report.terms.total());
  if (!std::isfinite(report.bits_per_dim.mean))
    throw std::runtime_error(fmt::format("the variational bound of {} is not finite ({} bits/dim)", model.path,
                                         report.bits_per_dim.mean));
  report.prior = mean_with_error(report.terms.prior);
  report.decoder = mean_with_error(report.terms.decoder);
  for (int64_t b = 0; b < report.terms.bands.size(1); ++b)
    report.bands.push_back(mean_with_error(report.terms.bands.select(1, b)));
  report.seconds = seconds_since(start);
  return report;
}

QualityReport evaluate_sample_quality(TrainedModel& model, const Dataset& test, const FeatureNetwork& features,
                                      const QualityOptions& options, const StepCallback& progress) {
  check_images_fit(model, test);
  if (options.n <= options.k || 2 * options.n > test.size())
    throw std::invalid_argument(fmt::format("n (samples) must be between k + 1 = {} and half the test set ({}), got {}", options.k + 1,
                                            test.size() / 2, options.n));
  if (features.classifier) {
    const auto& c = features.classifier->config();
    if (sample_shape(model.config) != std::vector<int64_t>{c.in_channels, c.image_height, c.image_width})
      throw std::invalid_argument(fmt::format("the classifier takes {}x{}x{} images, unlike this model's; give a "
                                              "feature network for them",
                                              c.in_channels, c.image_height, c.image_width));
  }
  const auto start = Clock::now();
  QualityReport report;
  report.n = options.n;

  GenerateOptions generate_options;
  generate_options.n = options.n;
  generate_options.seed = options.seed;
  generate_options.sampler = options.sampler;
  generate_options.batch = options.batch;
  generate_options.precision = options.precision;
  const auto samples = quantize(generate(model, generate_options, nullptr, progress));
  report.seconds_generation = seconds_since(start);

  // Two disjoint random sets of real test images: the reference, and the floor's stand-in for a perfect model.
  auto gen = make_generator(options.seed + 1);
  const auto order = torch::randperm(test.size(), gen, torch::kLong);
  const auto reference_images = test.batch(order.slice(0, 0, options.n));
  const auto other_images = test.batch(order.slice(0, options.n, 2 * options.n));
  const auto noise = quantize(torch::randn(samples.sizes(), gen));

  const auto reference = extract_features(features, reference_images, options.batch);
  const auto reference_stats = feature_statistics(reference);
  report.samples = compare(reference, reference_stats, extract_features(features, samples, options.batch), options.k);
  report.floor = compare(reference, reference_stats, extract_features(features, other_images, options.batch), options.k);
  report.ceiling = compare(reference, reference_stats, extract_features(features, noise, options.batch), options.k);
  if (features.classifier) {
    report.class_histogram = histogram(*features.classifier, samples);
    report.reference_histogram = histogram(*features.classifier, reference_images);
  }
  report.seconds_total = seconds_since(start);
  return report;
}

}  // namespace ddpm
