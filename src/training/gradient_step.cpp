// Algorithm 1's loss and gradient for one batch (see gradient_step.h).
#include "training/gradient_step.h"

#include "core/forward_process.h"
#include "core/losses.h"

namespace ddpm {

GradientStep compute_gradient(NoiseNetImpl& net, torch::optim::Optimizer& optimizer, const Schedule& schedule,
                              const torch::Tensor& x0, at::Generator& gen, const GradientOptions& options) {
  GradientStep step;
  const int64_t B = x0.size(0), offset = options.offset;
  const int64_t global_batch = options.global_batch > 0 ? options.global_batch : B;
  auto global_shape = x0.sizes().vec();
  global_shape[0] = global_batch;
  // Algorithm 1: t ~ Uniform({1..T}) (indices 0..T-1), ε ~ N(0, I), x_t by Ho et al. eq. 4 (reparameterised as in eq. 9).
  step.t = torch::randint(0, schedule.T, {global_batch}, gen, torch::TensorOptions().dtype(torch::kLong).device(x0.device()))
               .slice(0, offset, offset + B);
  auto eps = torch::randn(global_shape, gen, x0.options()).slice(0, offset, offset + B);
  auto xt = q_sample(schedule, x0, step.t, eps);
  net.train();
  step.per_example = l_simple_per_example(eps, net.forward(xt, step.t));
  auto loss = step.per_example.mean();
  if (options.loss_hook) loss = options.loss_hook(loss);

  optimizer.zero_grad();
  loss.backward();
  step.loss = loss.item<double>();
  if (options.before_clip) options.before_clip(step);
  step.grad_norm = torch::nn::utils::clip_grad_norm_(net.parameters(), options.grad_clip);
  return step;
}

}  // namespace ddpm
