#include "inference/generate.h"

#include "core/random.h"
#include "inference/network_predictor.h"
#include "models/memory_budget.h"

namespace ddpm {

torch::Tensor generate(TrainedModel& model, const GenerateOptions& options, TrajectoryRecorder* trajectory,
                       const StepCallback& progress) {
  if (options.n < 1) throw std::invalid_argument("the number of samples must be >= 1");
  const auto& schedule = model.schedule;
  const auto device = model.net->parameters().front().device();
  check_batch_fits(model.config, std::min(options.batch, options.n), /*training=*/false, device,
                   "lower the samples per batch");
  auto gen = make_generator(options.seed, device);
  auto predictor = network_predictor(*model.net, options.precision);
  SamplerSpec spec = options.sampler;
  // The one place that decides: a model of images has its x̂_0 clipped to the data's range [-1, 1].
  if (!spec.clip_x0) spec.clip_x0 = samples_are_images(model.config);
  std::vector<torch::Tensor> parts;
  for (int64_t done = 0; done < options.n; done += options.batch) {
    const int64_t b = std::min(options.batch, options.n - done);
    auto shape = sample_shape(model.config);
    shape.insert(shape.begin(), b);
    auto x_T = torch::randn(shape, gen, torch::TensorOptions().device(device));
    StepCallback on_step = progress;
    if (trajectory && done == 0) on_step = trajectory->callback(progress);
    parts.push_back(run_sampler(schedule, predictor, x_T, gen, spec, on_step).to(torch::kCPU));
  }
  return torch::cat(parts);
}

}  // namespace ddpm
