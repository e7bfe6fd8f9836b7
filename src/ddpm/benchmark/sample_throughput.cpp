// Sampling throughput (see sample_throughput.h).
#include "ddpm/benchmark/sample_throughput.h"

#include <stdexcept>

#include "ddpm/benchmark/timing.h"
#include "ddpm/core/random.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

double sampling_calls_per_second(const ModelConfig& model, int64_t batch, const c10::Device& device,
                                 Precision precision, int repeats, int64_t calls_per_repeat,
                                 std::vector<OpTime>* profile) {
  torch::manual_seed(0);
  auto net = build_model(model);
  net->to(device);
  const auto schedule = make_schedule(ScheduleConfig{});
  const auto predictor = network_predictor(*net, schedule, precision);
  SamplerSpec spec;
  spec.steps = calls_per_repeat;
  spec = model_sampler(model, spec);
  const int64_t calls = sampler_evaluations(spec, schedule.T);  // per sample = batched calls
  auto gen = make_generator(0, device);
  auto shape = sample_shape(model);
  shape.insert(shape.begin(), batch);
  const auto x_T = torch::randn(shape, gen, torch::TensorOptions().device(device));
  auto draw = [&] { return run_sampler(schedule, predictor, x_T, gen, spec); };
  if (!torch::isfinite(draw()).all().item<bool>())
    throw std::runtime_error(fmt::format("sampling benchmark: non-finite samples at batch {}", batch));
  const double seconds = best_seconds_per_call([&] { draw(); }, device, repeats, 1);
  if (profile) *profile = profile_ops([&] { draw(); }, static_cast<double>(calls));
  return static_cast<double>(calls) / seconds;
}

}  // namespace ddpm
