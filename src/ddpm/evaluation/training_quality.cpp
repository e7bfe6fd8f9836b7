#include "ddpm/evaluation/training_quality.h"

#include <fmt/format.h>

#include <memory>

#include "ddpm/core/random.h"
#include "ddpm/data/data_spec.h"
#include "ddpm/evaluation/model_evaluation.h"
#include "ddpm/training/stop_signal.h"

namespace ddpm {

StepEvaluation training_quality_evaluation(const TrainConfig& config, Precision precision) {
  auto test = std::make_shared<const Dataset>(load_dataset(config.data, DataOptions{"test", config.image_size, 0}));
  auto features = std::make_shared<const FeatureNetwork>(
      config.eval_features.empty() ? classifier_feature_network(shipped_classifier_path())
                                   : torchscript_feature_network(config.eval_features));
  QualityOptions options;
  options.n = config.eval_n;
  options.seed = derive_seed(config.seed, 3);  // the same samples' noise at every evaluation of the run
  options.sampler = fast_sampler();
  options.precision = precision;
  check_sample_quality_inputs(config.model, *test, *features, options);
  auto schedule = std::make_shared<const Schedule>(make_schedule(config.schedule));
  return [=](const NoiseNet& ema, int64_t step) {
    TrainedModel model{config.model, config.schedule, *schedule, ema, step, step, "EMA", {}, {}};
    // A stop signal abandons the measurement (the trainer then writes its checkpoint) rather than waiting for it.
    const auto r = evaluate_sample_quality(model, *test, *features, options,
                                           [](int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
                                             if (StopSignals::received()) throw std::runtime_error("a stop signal arrived");
                                           });
    StepEvaluationResult result;
    result.record = {{"fid", r.samples.fid}, {"precision", r.samples.precision}, {"recall", r.samples.recall},
                     {"n", r.n}, {"floor_fid", r.floor.fid}, {"seconds", r.seconds_total}};
    std::string accuracy;
    if (!r.class_accuracy.empty()) {
      result.record["class_accuracy"] = r.overall_accuracy;
      accuracy = fmt::format(", class accuracy {:.1f}%", 100.0 * r.overall_accuracy);
    }
    result.summary = fmt::format("quality at step {}: FID {:.1f} (floor {:.1f}), precision {:.3f}, recall {:.3f}{} "
                                 "({} EMA samples, {:.0f} s)",
                                 step, r.samples.fid, r.floor.fid, r.samples.precision, r.samples.recall, accuracy, r.n,
                                 r.seconds_total);
    return result;
  };
}

}  // namespace ddpm
