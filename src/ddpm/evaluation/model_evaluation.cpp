// `ddpm eval`'s two measurements of a trained model.
#include "ddpm/evaluation/model_evaluation.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <fmt/ranges.h>
#include <stdexcept>

#include "ddpm/core/random.h"
#include "ddpm/evaluation/frechet_distance.h"
#include "ddpm/evaluation/precision_recall.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/runtime/clock.h"

namespace ddpm {
namespace {

void check_images_fit(const ModelConfig& model, const Dataset& test) {
  if (!test.is_image())
    throw std::invalid_argument(fmt::format("'{}' is point data; ddpm eval measures 8-bit image models", test.name));
  const auto shape = sample_shape(model);
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

int64_t fit_examples(const NllOptions& options, const Dataset& train) {
  return options.fit_variance ? std::min(std::max<int64_t>(options.fit.n, 0), train.size()) : 0;
}

int64_t nll_evaluations(const Schedule& schedule, const NllOptions& options, const Dataset* train) {
  const int64_t fit = train == nullptr ? 0 : fit_examples(options, *train);
  return fit * schedule.T + bound_evaluations(options.n, schedule.T, options.bound);
}

NllReport evaluate_nll(TrainedModel& model, const Dataset& test, const NllOptions& options,
                       const BoundProgress& progress, const Dataset* train) {
  check_images_fit(model.config, test);
  if (options.n < 1 || options.n > test.size())
    throw std::invalid_argument(fmt::format("n (test examples) must be between 1 and the test set's {}, got {}",
                                            test.size(), options.n));
  const bool fit = options.fit_variance;
  if (fit) {
    if (train == nullptr) throw std::invalid_argument("fitting the reverse variances needs the training split");
    check_images_fit(model.config, *train);
  }
  const auto start = Clock::now();
  const auto& schedule = model.schedule;
  auto gen = make_generator(options.seed);
  const auto subset = torch::randperm(test.size(), gen, torch::kLong).slice(0, 0, options.n);
  auto predictor = network_predictor(*model.net, model.schedule, options.precision);

  NllReport report;
  report.n = options.n;
  auto bound = options.bound;
  // One count over the fit and the bound.
  const int64_t fit_n = fit ? fit_examples(options, *train) : 0, fit_evaluations = fit_n * schedule.T;
  const int64_t total = nll_evaluations(schedule, options, train);
  if (fit) {
    const auto examples = torch::randperm(train->size(), gen, torch::kLong).slice(0, 0, fit_n);
    auto fit_options = options.fit;
    fit_options.clip_x0 = options.bound.clip_x0;  // the error of the x̂_0 the bound's means are made from
    report.fit = fit_reverse_variance(schedule, predictor, train->batch(examples), gen, fit_options,
                                      [&](int64_t done, int64_t) { if (progress) progress(done, total); });
    bound.variance_table = report.fit.variance;
  }
  const auto bound_progress = [&](int64_t done, int64_t) {
    if (progress) progress(fit_evaluations + done, total);
  };
  report.terms = variational_bound(schedule, predictor, test.batch(subset), gen, bound, bound_progress);
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

void check_sample_quality_inputs(const ModelConfig& model, const Dataset& test, const FeatureNetwork& features,
                                 const QualityOptions& options) {
  check_images_fit(model, test);
  if (options.n <= options.k || 2 * options.n > test.size())
    throw std::invalid_argument(fmt::format("n (samples) must be between k + 1 = {} and half the test set ({}), got {}", options.k + 1,
                                            test.size() / 2, options.n));
  if (features.classifier) {
    const auto& c = features.classifier->config();
    if (sample_shape(model) != std::vector<int64_t>{c.in_channels, c.image_height, c.image_width})
      throw std::invalid_argument(fmt::format("the classifier takes {}x{}x{} images, unlike this model's; give a "
                                              "feature network for them",
                                              c.in_channels, c.image_height, c.image_width));
  }
  if (model.conditional() && test.class_names != model.class_names)
    throw std::invalid_argument(fmt::format("'{}' has other classes than the model's ({})", test.name,
                                            fmt::join(model.class_names, ", ")));
}

QualityReport evaluate_sample_quality(TrainedModel& model, const Dataset& test, const FeatureNetwork& features,
                                      const QualityOptions& options, const StepCallback& progress) {
  check_sample_quality_inputs(model.config, test, features, options);
  const auto start = Clock::now();
  QualityReport report;
  report.n = options.n;
  report.guidance = options.guidance;

  // Two disjoint random sets of real test images: the reference, and the floor's stand-in for a perfect model.
  auto gen = make_generator(options.seed + 1);
  const auto order = torch::randperm(test.size(), gen, torch::kLong);
  const auto reference_ids = order.slice(0, 0, options.n), other_ids = order.slice(0, options.n, 2 * options.n);
  const auto reference_images = test.batch(reference_ids);
  const auto other_images = test.batch(other_ids);

  const bool conditional = model.config.conditional();
  GenerateOptions generate_options;
  generate_options.n = options.n;
  generate_options.seed = options.seed;
  generate_options.sampler = options.sampler;
  generate_options.batch = options.batch;
  generate_options.precision = options.precision;
  if (conditional) {
    generate_options.labels = test.labels.index_select(0, reference_ids);
    generate_options.guidance = options.guidance;
  }
  const auto samples = quantize(generate(model, generate_options, nullptr, progress));
  report.seconds_generation = seconds_since(start);
  const auto noise = quantize(torch::randn(samples.sizes(), gen));

  const auto reference = extract_features(features, reference_images, options.batch);
  const auto reference_stats = feature_statistics(reference);
  const auto sample_features = extract_features(features, samples, options.batch);
  const auto other_features = extract_features(features, other_images, options.batch);
  report.samples = compare(reference, reference_stats, sample_features, options.k);
  report.floor = compare(reference, reference_stats, other_features, options.k);
  if (conditional) {
    const auto reference_labels = generate_options.labels, other_labels = test.labels.index_select(0, other_ids);
    for (int64_t c = 0; c < model.config.num_classes(); ++c) {
      const auto of_class = [c](const torch::Tensor& features, const torch::Tensor& labels) {
        return features.index_select(0, (labels == c).nonzero().flatten());
      };
      const auto ref = of_class(reference, reference_labels);
      const auto distance = [&ref](const torch::Tensor& candidate) {
        return ref.size(0) < 2 || candidate.size(0) < 2
                   ? std::numeric_limits<double>::quiet_NaN()
                   : frechet_distance(feature_statistics(ref), feature_statistics(candidate));
      };
      report.class_fid.push_back(distance(of_class(sample_features, reference_labels)));
      report.class_floor_fid.push_back(distance(of_class(other_features, other_labels)));
    }
    if (features.classifier && features.classifier->config().class_names == model.config.class_names) {
      const auto hit = (classify(*features.classifier, samples) == reference_labels).to(torch::kDouble);
      report.overall_accuracy = hit.mean().item<double>();
      const auto counts = torch::bincount(reference_labels, {}, model.config.num_classes()).to(torch::kDouble);
      const auto hits = torch::bincount(reference_labels, hit, model.config.num_classes());
      const auto per_class = (hits / counts).contiguous();  // NaN for a class the reference lacks
      report.class_accuracy.assign(per_class.data_ptr<double>(), per_class.data_ptr<double>() + per_class.numel());
    }
  }
  report.ceiling = compare(reference, reference_stats, extract_features(features, noise, options.batch), options.k);
  if (features.classifier) {
    report.class_histogram = histogram(*features.classifier, samples);
    report.reference_histogram = histogram(*features.classifier, reference_images);
  }
  report.seconds_total = seconds_since(start);
  return report;
}

}  // namespace ddpm
