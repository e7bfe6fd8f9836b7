// `ddpm eval`: a trained model's bits/dim (the variational bound, Ho et al. eq. 5) or its sample quality
// (Fréchet distance, precision, recall in a classifier's feature space) on a data set's test split.
#include <cstdio>
#include <cmath>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/evaluation/model_evaluation.h"
#include "ddpm/io/json_number.h"
#include "ddpm/io/progress_line.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm::cli {
namespace {

constexpr int64_t kDefaultNllExamples = 128;
constexpr int64_t kDefaultQualitySamples = 500;
constexpr const char* kFittedVariance = "fitted";  // --variance: fitted to the network (evaluation/fitted_variance.h)

struct EvalFlags {
  std::string model, data = "fashion-mnist", metric, variance = kFittedVariance, features, classifier,
      precision = "auto";
  int64_t n = 0, timesteps = 50, bands = 10, batch = 256, k = 3, image_size = 0, fit_n = 0;
  uint64_t seed = 0;
  bool json = false, raw = false, no_clip = false;
  SamplerSpec sampler;
  std::vector<double> guidance = {0.0};
};


void run_nll(const EvalFlags& f, TrainedModel& model, const Dataset& test) {
  NllOptions options;
  options.n = f.n > 0 ? f.n : std::min(kDefaultNllExamples, test.size());
  options.seed = f.seed;
  options.bound.strata = f.timesteps;
  options.bound.bands = f.bands;
  const bool fitted = f.variance == kFittedVariance;
  if (!fitted) options.bound.variance = parse_variance_kind(f.variance);
  options.fit_variance = fitted;
  if (f.fit_n > 0) options.fit.n = f.fit_n;
  options.fit.batch = f.batch;
  options.bound.clip_x0 = !f.no_clip;
  options.bound.batch = f.batch;
  options.precision = choose_precision(f.precision, torch::kCPU, model.config);
  const auto& schedule = model.schedule;
  std::optional<Dataset> train;
  if (fitted) train = load_dataset(f.data, DataOptions{"train", f.image_size, 0});
  const int64_t evaluations = nll_evaluations(schedule, options, train ? &*train : nullptr);
  const bool exact = options.bound.strata <= 0 || options.bound.strata >= schedule.T - 1;
  const int64_t fit_n = train ? fit_examples(options, *train) : 0;
  ProgressLine progress(fitted ? "variance fit and bound: network evaluations" : "bound: network evaluations",
                        evaluations, 0,
                        fmt::format("bound of {} on {} {} examples: {}{}, {} network evaluations in {}", model.path,
                                    options.n, test.name,
                                    exact ? fmt::format("all {} terms", schedule.T)
                                          : fmt::format("~{} strata of t + decoder + prior", options.bound.strata),
                                    fitted ? fmt::format("; variances fitted on {} training examples at all {} steps",
                                                         fit_n, schedule.T)
                                           : "",
                                    evaluations, precision_name(options.precision)));
  const auto r = evaluate_nll(model, test, options, [&](int64_t done, int64_t) { progress.update(done); },
                              train ? &*train : nullptr);
  progress.finish();
  const double decoder_sigma = fitted ? std::sqrt(r.fit.variance[0].item<double>()) : 0.0;
  const int64_t kl_terms = r.terms.evaluations / r.n - 1;

  if (f.json) {
    nlohmann::json terms = nlohmann::json::array();
    for (size_t b = 0; b < r.bands.size(); ++b)
      terms.push_back({{"t_first", r.terms.band_ranges[b].t_first}, {"t_last", r.terms.band_ranges[b].t_last},
                       {"bits_per_dim", r.bands[b].mean}, {"standard_error", finite_or_null(r.bands[b].standard_error)}});
    nlohmann::json out = {{"metric", "nll"}, {"model", model.path}, {"data", test.name},
                          {"bits_per_dim", r.bits_per_dim.mean},
                          {"standard_error", finite_or_null(r.bits_per_dim.standard_error)},
                          {"prior_bits_per_dim", r.prior.mean}, {"decoder_bits_per_dim", r.decoder.mean},
                          {"decoder_standard_error", finite_or_null(r.decoder.standard_error)},
                          {"terms", terms}, {"n", r.n}, {"timesteps", kl_terms}, {"exact", r.terms.exact},
                          {"T", schedule.T}, {"variance", f.variance}, {"clip_x0", !f.no_clip},
                          {"network_evaluations", r.terms.evaluations + r.fit.evaluations}, {"seed", f.seed},
                          {"seconds", r.seconds},
                          {"arithmetic", precision_name(options.precision)}};  // "precision" is a metric in fid
    if (fitted) out["fit"] = {{"training_examples", fit_n}, {"decoder_sigma", decoder_sigma}};
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("variational bound (Ho et al. eq. 5) of %s on %s\n", model.path.c_str(), test.name.c_str());
  std::printf("  %lld examples, %s, variance %s%s\n", static_cast<long long>(r.n),
              r.terms.exact ? fmt::format("all {} KL terms (exact)", kl_terms).c_str()
                            : fmt::format("{} stratified KL terms per example", kl_terms).c_str(),
              fitted ? fmt::format("fitted on {} training examples (decoder sigma {:.4f})", fit_n,
                                   decoder_sigma).c_str()
                     : f.variance.c_str(),
              f.no_clip ? "" : ", x0 clipped");
  std::printf("  bits/dim             %.4f ± %.4f (standard error over examples%s)\n", r.bits_per_dim.mean,
              r.bits_per_dim.standard_error, r.terms.exact ? "" : " and timesteps");
  std::printf("  prior L_T            %.6f\n", r.prior.mean);
  std::printf("  decoder L_0          %.4f\n", r.decoder.mean);
  for (size_t b = 0; b < r.bands.size(); ++b)
    std::printf("  KL t = %4lld..%-4lld    %.4f\n", static_cast<long long>(r.terms.band_ranges[b].t_first),
                static_cast<long long>(r.terms.band_ranges[b].t_last), r.bands[b].mean);
  std::printf("  %lld network evaluations in %.1f s\n", static_cast<long long>(r.terms.evaluations + r.fit.evaluations),
              r.seconds);
}

// A class-conditional model's figures for one guidance weight: per class and overall.
nlohmann::json class_json(const QualityReport& r, const std::vector<std::string>& names) {
  nlohmann::json out = {{"guidance", r.guidance}};
  nlohmann::json fid = nlohmann::json::object(), floor = nlohmann::json::object();
  for (size_t c = 0; c < names.size(); ++c) {
    fid[names[c]] = finite_or_null(r.class_fid[c]);
    floor[names[c]] = finite_or_null(r.class_floor_fid[c]);
  }
  out["class_fid"] = fid;
  out["class_floor_fid"] = floor;
  if (!r.class_accuracy.empty()) {
    nlohmann::json accuracy = nlohmann::json::object();
    for (size_t c = 0; c < names.size(); ++c) accuracy[names[c]] = finite_or_null(r.class_accuracy[c]);
    out["class_accuracy"] = {{"per_class", accuracy}, {"overall", r.overall_accuracy}};
  }
  return out;
}

void print_classes(const QualityReport& r, const std::vector<std::string>& names) {
  const bool accuracy = !r.class_accuracy.empty();
  std::printf("  per class at guidance %g: FID of its samples (of other real images: the floor)%s\n", r.guidance,
              accuracy ? ", and the classifier's accuracy on them" : "");
  for (size_t c = 0; c < names.size(); ++c)
    std::printf("    %-12s %8.2f (%6.2f)%s\n", names[c].c_str(), r.class_fid[c], r.class_floor_fid[c],
                accuracy ? fmt::format("  {:5.1f}%", 100.0 * r.class_accuracy[c]).c_str() : "");
  if (accuracy) std::printf("    %-12s %27.1f%%\n", "overall", 100.0 * r.overall_accuracy);
}

void run_fid(const EvalFlags& f, TrainedModel& model, const Dataset& test) {
  const auto features = f.features.empty()
                            ? classifier_feature_network(f.classifier.empty() ? shipped_classifier_path() : f.classifier)
                            : torchscript_feature_network(f.features);
  const bool conditional = model.config.conditional();
  if (!conditional && f.guidance != std::vector<double>{0.0})
    throw std::invalid_argument("--guidance needs a class-conditional model; this one was trained without classes");
  QualityOptions options;
  options.n = f.n > 0 ? f.n : std::min(kDefaultQualitySamples, test.size() / 2);
  options.k = f.k;
  options.seed = f.seed;
  options.sampler = f.sampler;
  if (f.no_clip) options.sampler.clip_x0 = false;
  options.batch = f.batch;
  options.precision = choose_precision(f.precision, torch::kCPU, model.config);
  const auto& schedule = model.schedule;
  // generate() reports steps per batch of samples; count them over all batches (guidance: batches of 2x the rows).
  const int64_t batches = (options.n + options.batch - 1) / options.batch;
  int64_t calls = 0;
  for (const double w : f.guidance) calls += batches * sampler_evaluations(options.sampler, schedule.T) * (w != 0 ? 2 : 1);
  ProgressLine line("sampling: batched calls", calls, 0,
                    fmt::format("sample quality of {}: {} samples by {}{} ({} network evaluations in {}), features {}",
                                model.path, options.n, options.sampler.kind,
                                conditional ? fmt::format(" at guidance {}", fmt::join(f.guidance, ", ")) : "",
                                calls / batches * options.n, precision_name(options.precision), features.description));
  int64_t calls_done = 0;
  std::vector<QualityReport> reports;
  for (const double w : f.guidance) {
    options.guidance = w;
    reports.push_back(evaluate_sample_quality(model, test, features, options,
                                              [&](int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
                                                line.update(calls_done += w != 0 ? 2 : 1);
                                              }));
  }
  line.finish();
  const auto& r = reports.front();
  const int64_t steps = options.sampler.steps > 0 ? options.sampler.steps : schedule.T;
  std::vector<std::string> names;
  if (features.classifier) names = features.classifier->config().class_names;
  const auto& classes = model.config.class_names;
  if (f.json) {
    auto set = [](const SetQuality& q) { return nlohmann::json{{"fid", q.fid}, {"precision", q.precision}, {"recall", q.recall}}; };
    nlohmann::json out = {{"metric", "fid"}, {"model", model.path}, {"data", test.name},
                          {"features", features.description}, {"fid", r.samples.fid},
                          {"precision", r.samples.precision}, {"recall", r.samples.recall}, {"k", options.k},
                          {"n_samples", r.n}, {"reference_floor", r.floor.fid}, {"noise_ceiling", r.ceiling.fid},
                          {"floor", set(r.floor)}, {"ceiling", set(r.ceiling)},
                          {"sampler", {{"kind", options.sampler.kind}, {"steps", steps}, {"eta", options.sampler.eta},
                                       {"clip_x0", !f.no_clip}}},
                          {"seed", f.seed}, {"seconds_generation", r.seconds_generation},
                          {"seconds", r.seconds_total}, {"arithmetic", precision_name(options.precision)}};
    if (!names.empty()) {
      nlohmann::json histogram = nlohmann::json::object(), reference = nlohmann::json::object();
      for (size_t c = 0; c < names.size(); ++c) {
        histogram[names[c]] = r.class_histogram[c];
        reference[names[c]] = r.reference_histogram[c];
      }
      out["class_histogram"] = histogram;
      out["reference_class_histogram"] = reference;
    }
    if (conditional) {  // the first weight's figures at the top, every weight's in by_guidance
      out.update(class_json(r, classes));
      nlohmann::json by_guidance = nlohmann::json::array();
      for (const auto& q : reports) {
        auto row = class_json(q, classes);
        row.update(set(q.samples));
        by_guidance.push_back(row);
      }
      out["by_guidance"] = by_guidance;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("sample quality of %s against %s, features: %s\n", model.path.c_str(), test.name.c_str(),
              features.description.c_str());
  std::printf("  %lld samples by %s in %lld steps; as many real test images as the reference%s\n",
              static_cast<long long>(r.n), options.sampler.kind.c_str(), static_cast<long long>(steps),
              conditional ? ", and one sample for each one's class" : "");
  std::printf("                          FID   precision  recall  (k = %lld)\n", static_cast<long long>(options.k));
  for (const auto& q : reports)
    std::printf("  %-20s %9.3f  %9.3f  %6.3f\n",
                conditional ? fmt::format("samples, guidance {}", q.guidance).c_str() : "samples", q.samples.fid,
                q.samples.precision, q.samples.recall);
  for (const auto& [label, q] : {std::pair{"real images (floor)", r.floor}, std::pair{"noise (ceiling)", r.ceiling}})
    std::printf("  %-20s %9.3f  %9.3f  %6.3f\n", label, q.fid, q.precision, q.recall);
  if (!names.empty() && !conditional) {
    std::printf("  predicted classes of the samples (of the reference images):\n");
    for (size_t c = 0; c < names.size(); ++c)
      std::printf("    %-12s %5.1f%% (%4.1f%%)\n", names[c].c_str(), 100.0 * r.class_histogram[c] / r.n,
                  100.0 * r.reference_histogram[c] / r.n);
  }
  if (conditional)
    for (const auto& q : reports) print_classes(q, classes);
  double seconds = 0, generation = 0;
  for (const auto& q : reports) seconds += q.seconds_total, generation += q.seconds_generation;
  std::printf("  %.1f s (sampling %.1f s)\n", seconds, generation);
}

void run(const EvalFlags& f) {
  if (f.metric == "nll" && f.guidance != std::vector<double>{0.0})
    throw CLI::ValidationError("--guidance", "applies to --metric fid (nll bounds the model without a class)");
  if (f.fit_n > 0 && (f.metric != "nll" || f.variance != kFittedVariance))
    throw CLI::ValidationError("--fit-n", "applies to --metric nll with --variance fitted");
  auto model = load_trained_model(f.model, f.raw);
  const auto test = load_dataset(f.data, DataOptions{"test", f.image_size, 0});
  if (f.metric == "nll")
    run_nll(f, model, test);
  else
    run_fid(f, model, test);
}

}  // namespace

Subcommand add_eval(CLI::App& parent) {
  auto* app = parent.add_subcommand("eval", "evaluate a trained model: bits/dim (the variational bound) or sample quality (FID, precision, recall)");
  auto f = std::make_shared<EvalFlags>();
  auto& s = f->sampler;
  s = fast_sampler();
  app->add_option("--model", f->model, "shipped model name, .safetensors model file, run folder or diffusers folder")->required();
  app->add_option("--metric", f->metric, "nll (bits/dim of the variational bound) | fid (FID, precision, recall)")
      ->required()->check(CLI::IsMember({"nll", "fid"}));
  add_data_flag(*app, f->data, "data set whose test split is used:");
  app->add_option("--image-size", f->image_size, "images resized (shorter side) and center-cropped to this size, as "
                                                 "for training (a folder of mixed sizes needs it)")
      ->check(positive());
  app->add_option("--n", f->n, fmt::format("test examples (nll, default {}) or samples (fid, default {})",
                                           kDefaultNllExamples, kDefaultQualitySamples))
      ->check(positive());
  app->add_option("--seed", f->seed, "seed: test subset, noise, timesteps, samples")->capture_default_str();
  app->add_option("--batch", f->batch, "network evaluations per batched call (fid: samples drawn at once)")->capture_default_str()->check(positive());
  app->add_flag("--raw", f->raw, "a run folder's raw weights instead of the EMA");
  app->add_flag("--no-clip", f->no_clip, "do not clip the predicted x0 to [-1, 1]");
  app->add_flag("--json", f->json, "print one JSON object");
  // nll
  app->add_option("--timesteps", f->timesteps, "nll: KL terms per example, stratified over t (>= T-1: all, exact)")
      ->capture_default_str()->check(positive());
  app->add_option("--bands", f->bands, "nll: the KL terms are reported summed over this many bands of t")
      ->capture_default_str()->check(positive());
  auto variances = variance_kinds();
  variances.push_back(kFittedVariance);
  app->add_option("--variance", f->variance,
                  "nll: reverse variance, beta (Ho et al.'s CIFAR-10 choice) | posterior (beta tilde) | fitted (per "
                  "step, the bound's optimum for this network, measured on the training split)")
      ->capture_default_str()->check(CLI::IsMember(variances));
  app->add_option("--fit-n", f->fit_n,
                  fmt::format("nll: training examples the fitted variance is measured on, each at all T steps "
                              "(default {})",
                              VarianceFitOptions{}.n))
      ->check(positive());
  // fid
  add_sampler_flags(*app, s, "fid: ");
  app->add_option("--guidance", f->guidance,
                  "fid: a class-conditional model's guidance weights w, e.g. 0,1,3 (each one a row: FID, per-class FID "
                  "and the classifier's accuracy on the classes asked for)")
      ->delimiter(',')->capture_default_str()->check(non_negative());
  app->add_option("--k", f->k, "fid: neighbours of the precision/recall manifolds")->capture_default_str()->check(positive());
  app->add_option("--features", f->features, "fid: a TorchScript feature network ([B,C,H,W] in [-1,1] -> [B,F]) instead of the classifier");
  app->add_option("--classifier", f->classifier, "fid: classifier file (default: the shipped models/fashion-classifier.safetensors)");
  add_precision_flag(*app, f->precision);
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
