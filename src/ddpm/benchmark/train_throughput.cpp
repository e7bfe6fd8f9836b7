// Training throughput (see train_throughput.h).
#include "ddpm/benchmark/train_throughput.h"

#include <stdexcept>

#include "ddpm/benchmark/timing.h"
#include "ddpm/core/random.h"
#include "ddpm/training/gradient_step.h"
#include "ddpm/training/train_config.h"

namespace ddpm {

double training_images_per_second(const ModelConfig& model, int64_t batch, const c10::Device& device,
                                  Precision precision, int repeats, int steps_per_repeat, std::vector<OpTime>* profile) {
  const TrainConfig defaults;
  torch::manual_seed(0);
  auto net = build_model(model);
  net->to(device);
  // Any rate costs the same; Ho et al.'s, for definiteness.
  torch::optim::AdamW adam(net->parameters(), torch::optim::AdamWOptions(default_learning_rate("")).weight_decay(defaults.weight_decay));
  const auto schedule = make_schedule(defaults.schedule);
  auto gen = make_generator(0, device);
  auto shape = sample_shape(model);
  shape.insert(shape.begin(), batch);
  // Uniform data in [-1, 1]: a step costs the same whatever the pixel values are.
  const auto x0 = torch::rand(shape, gen, torch::TensorOptions().device(device)) * 2 - 1;
  GradientOptions options;
  options.grad_clip = defaults.grad_clip;
  options.precision = precision;
  auto step = [&] {
    const auto grad = compute_gradient(*net, adam, schedule, x0, gen, options);
    adam.step();
    return grad;
  };
  const auto first = step();
  if (!std::isfinite(first.loss) || !std::isfinite(first.grad_norm))
    throw std::runtime_error(fmt::format("training benchmark: non-finite loss {} or gradient norm {}", first.loss,
                                         first.grad_norm));
  const double seconds = best_seconds_per_call([&] { step(); }, device, repeats, steps_per_repeat);
  if (profile) *profile = profile_ops([&] { step(); });
  return static_cast<double>(batch) / seconds;
}

}  // namespace ddpm
