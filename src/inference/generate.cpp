#include "inference/generate.h"

#include "core/guidance.h"
#include "core/random.h"
#include "inference/network_predictor.h"
#include "models/memory_budget.h"

namespace ddpm {

torch::Tensor generate(TrainedModel& model, const GenerateOptions& options, TrajectoryRecorder* trajectory,
                       const StepCallback& progress) {
  if (options.n < 1) throw std::invalid_argument("the number of samples must be >= 1");
  const auto& schedule = model.schedule;
  const auto device = model.net->parameters().front().device();
  // Guidance evaluates the conditional and the unconditional prediction in one call of twice the rows.
  check_batch_fits(model.config, std::min(options.batch, options.n) * (options.guidance != 0 ? 2 : 1), /*training=*/false, device,
                   "lower the samples per batch");
  const int64_t null_label = model.config.num_classes();
  torch::Tensor labels = options.labels;
  if (!model.config.conditional()) {
    if (labels.defined() || options.guidance != 0)
      throw std::invalid_argument("classes and guidance need a class-conditional model; this one was trained without classes");
  } else {
    if (!labels.defined()) labels = torch::full({options.n}, null_label, torch::kLong);
    check_class_labels(labels, options.n, null_label, "samples");
  }
  auto gen = make_generator(options.seed, device);
  ClassNoisePredictor eps;       // a conditional model's, bound to each batch's labels below
  NoisePredictor unconditional;  // the others'
  if (labels.defined())
    eps = network_class_predictor(*model.net, options.precision);
  else
    unconditional = network_predictor(*model.net, options.precision);
  SamplerSpec spec = options.sampler;
  // The one place that decides: a model of images has its x̂_0 clipped to the data's range [-1, 1].
  if (!spec.clip_x0) spec.clip_x0 = samples_are_images(model.config);
  std::vector<torch::Tensor> parts;
  for (int64_t done = 0; done < options.n; done += options.batch) {
    const int64_t b = std::min(options.batch, options.n - done);
    auto shape = sample_shape(model.config);
    shape.insert(shape.begin(), b);
    auto x_T = torch::randn(shape, gen, torch::TensorOptions().device(device));
    const auto predictor = labels.defined()
                               ? class_guided_predictor(eps, labels.slice(0, done, done + b), options.guidance, null_label)
                               : unconditional;
    StepCallback on_step = progress;
    if (trajectory && done == 0) on_step = trajectory->callback(progress);
    parts.push_back(run_sampler(schedule, predictor, x_T, gen, spec, on_step).to(torch::kCPU));
  }
  return torch::cat(parts);
}

}  // namespace ddpm
