#include "ddpm/inference/generate.h"

#include "ddpm/core/random.h"
#include "ddpm/inference/model_predictor.h"
#include "ddpm/models/memory_budget.h"

namespace ddpm {

SamplerSpec model_sampler(const ModelConfig& model, SamplerSpec spec) {
  if (!spec.clip_x0) spec.clip_x0 = samples_are_images(model);
  return spec;
}

torch::Tensor generate(TrainedModel& model, const GenerateOptions& options, TrajectoryRecorder* trajectory,
                       const StepCallback& progress) {
  if (options.n < 1) throw std::invalid_argument("the number of samples must be >= 1");
  const auto& schedule = model.schedule;
  const auto device = model.net->parameters().front().device();
  // Guidance evaluates the conditional and the unconditional prediction in one call of twice the rows.
  check_batch_fits(model.config, std::min(options.batch, options.n) * (options.guidance != 0 ? 2 : 1), /*training=*/false, device,
                   "lower the samples per batch");
  const ModelPredictor predictor(model, options.labels, options.n, options.guidance, options.precision);
  auto gen = make_generator(options.seed, device);
  const SamplerSpec spec = model_sampler(model.config, options.sampler);
  std::vector<torch::Tensor> parts;
  for (int64_t done = 0; done < options.n; done += options.batch) {
    const int64_t b = std::min(options.batch, options.n - done);
    auto shape = sample_shape(model.config);
    shape.insert(shape.begin(), b);
    auto x_T = torch::randn(shape, gen, torch::TensorOptions().device(device));
    StepCallback on_step = progress;
    if (trajectory && done == 0) on_step = trajectory->callback(progress);
    parts.push_back(run_sampler(schedule, predictor.rows(done, done + b), x_T, gen, spec, on_step).to(torch::kCPU));
  }
  return torch::cat(parts);
}

}  // namespace ddpm
