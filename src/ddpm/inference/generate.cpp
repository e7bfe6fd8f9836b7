#include "ddpm/inference/generate.h"

#include <fmt/ranges.h>

#include "ddpm/core/random.h"
#include "ddpm/inference/model_predictor.h"
#include "ddpm/models/memory_budget.h"

namespace ddpm {

SamplerSpec fast_sampler() {
  SamplerSpec spec;
  spec.kind = "ddim";
  spec.steps = kFastSamplerSteps;
  return spec;
}

SamplerSpec model_sampler(const ModelConfig& model, SamplerSpec spec, const SamplingDefaults& defaults) {
  if (!spec.variance) spec.variance = defaults.variance;
  if (!spec.spacing) spec.spacing = defaults.spacing;
  if (!spec.ddim_clipped_eps) spec.ddim_clipped_eps = defaults.ddim_clipped_eps;
  if (!spec.clip_x0) spec.clip_x0 = defaults.clip_x0;
  if (!spec.clip_x0) spec.clip_x0 = samples_are_images(model);
  return spec;
}

void check_starting_noise(const torch::Tensor& noise, const ModelConfig& model, const std::string& source) {
  auto expected = sample_shape(model);
  expected.insert(expected.begin(), noise.dim() > 0 ? noise.size(0) : 0);
  if (noise.sizes() != c10::IntArrayRef(expected) || noise.size(0) < 1)
    throw std::invalid_argument(fmt::format("{}: the starting noise has shape [{}]; this model starts from [N, {}]",
                                            source, fmt::join(noise.sizes(), ", "),
                                            fmt::join(sample_shape(model), ", ")));
  if (noise.scalar_type() != torch::kFloat32)
    throw std::invalid_argument(fmt::format("{}: the starting noise is {}, not float32", source,
                                            c10::toString(noise.scalar_type())));
  if (!torch::isfinite(noise).all().item<bool>())
    throw std::invalid_argument(fmt::format("{}: the starting noise holds NaN or infinite values", source));
}

torch::Tensor generate(TrainedModel& model, const GenerateOptions& options, TrajectoryRecorder* trajectory,
                       const StepCallback& progress) {
  if (options.n < 1) throw std::invalid_argument("the number of samples must be >= 1");
  if (options.noise.defined()) {
    check_starting_noise(options.noise, model.config, "generate");
    if (options.noise.size(0) != options.n)
      throw std::invalid_argument(fmt::format("generate: {} starting points for {} samples", options.noise.size(0),
                                              options.n));
  }
  const auto& schedule = model.schedule;
  const auto device = model.net->parameters().front().device();
  // Guidance evaluates the conditional and the unconditional prediction in one call of twice the rows.
  check_batch_fits(model.config, std::min(options.batch, options.n) * (options.guidance != 0 ? 2 : 1), /*training=*/false, device,
                   "lower the samples per batch");
  const ModelPredictor predictor(model, options.labels, options.n, options.guidance, options.precision);
  auto gen = make_generator(options.seed, device);
  const SamplerSpec spec = model_sampler(model.config, options.sampler, model.sampling);
  std::vector<torch::Tensor> parts;
  for (int64_t done = 0; done < options.n; done += options.batch) {
    const int64_t b = std::min(options.batch, options.n - done);
    auto shape = sample_shape(model.config);
    shape.insert(shape.begin(), b);
    auto x_T = options.noise.defined() ? options.noise.slice(0, done, done + b).to(device)
                                       : torch::randn(shape, gen, torch::TensorOptions().device(device));
    StepCallback on_step = progress;
    if (trajectory && done == 0) on_step = trajectory->callback(progress);
    parts.push_back(run_sampler(schedule, predictor.rows(done, done + b), x_T, gen, spec, on_step).to(torch::kCPU));
  }
  return torch::cat(parts);
}

}  // namespace ddpm
