// Algorithm 1's loss and gradient for one batch (see gradient_step.h).
#include "ddpm/training/gradient_step.h"

#include <fmt/format.h>

#include <limits>

#include "ddpm/core/forward_process.h"
#include "ddpm/core/losses.h"
#include "ddpm/core/prediction.h"
#include "ddpm/models/mixed_precision.h"

namespace ddpm {

GradientStep compute_gradient(NoiseNetImpl& net, torch::optim::Optimizer& optimizer, const Schedule& schedule,
                              const torch::Tensor& x0, at::Generator& gen, const GradientOptions& options) {
  GradientStep step;
  const int64_t B = x0.size(0), offset = options.offset, K = options.micro_batches;
  TORCH_CHECK(K >= 1 && B % K == 0, fmt::format("a batch of {} cannot be split into {} equal micro-batches", B, K));
  const int64_t global_batch = options.global_batch > 0 ? options.global_batch : B;
  auto global_shape = x0.sizes().vec();
  global_shape[0] = global_batch;
  // Algorithm 1: t ~ Uniform({1..T}) (indices 0..T-1), ε ~ N(0, I), x_t by Ho et al. eq. 4 (reparameterised as in eq. 9).
  // Drawn once for the whole global batch, so every split into ranks and micro-batches trains on the same t and ε.
  step.t = torch::randint(0, schedule.T, {global_batch}, gen, torch::TensorOptions().dtype(torch::kLong).device(x0.device()))
               .slice(0, offset, offset + B);
  auto eps = torch::randn(global_shape, gen, x0.options()).slice(0, offset, offset + B);
  // Classifier-free guidance's training (Ho & Salimans 2021, Algorithm 1): c ← ∅ with probability p_uncond.
  torch::Tensor labels;
  if (options.labels.defined()) {
    const auto drop = torch::rand({global_batch}, gen, x0.options()).slice(0, offset, offset + B) < options.label_dropout;
    labels = options.labels.to(x0.device()).masked_fill(drop, options.null_label);
  }
  net.train();
  optimizer.zero_grad();
  const PrecisionScope precision(options.precision);
  const int64_t micro = B / K;
  std::vector<torch::Tensor> per_example;
  for (int64_t k = 0; k < K; ++k) {
    const auto t = step.t.slice(0, k * micro, (k + 1) * micro);
    const auto e = eps.slice(0, k * micro, (k + 1) * micro);
    const auto c = labels.defined() ? labels.slice(0, k * micro, (k + 1) * micro) : torch::Tensor();
    // The squared error of the network's own target: ε (L_simple), or x_0 or v (core/prediction.h).
    const auto x0_k = x0.slice(0, k * micro, (k + 1) * micro);
    const auto kind = net.prediction();
    const auto x_t = q_sample(schedule, x0_k, t, e);
    const auto output = net.forward(x_t, t, c);
    auto per = l_simple_per_example(prediction_target(kind, schedule, x0_k, e, t), output);
    auto loss = options.min_snr_gamma > 0
                    ? (per * min_snr_weights(schedule, t, options.min_snr_gamma, kind).to(per.dtype())).mean()
                    : per.mean();
    if (options.loss_hook) loss = options.loss_hook(loss);
    (loss / static_cast<double>(K)).backward();
    step.loss += loss.item<double>() / static_cast<double>(K);
    // Logged as ε's error whatever the network predicts, so that runs of every parameterisation compare.
    per_example.push_back(kind == Prediction::epsilon
                              ? per.detach()
                              : l_simple_per_example(e, eps_from_prediction(kind, schedule, x_t, t, output.detach())));
  }
  step.per_example = torch::cat(per_example);
  if (options.before_clip) options.before_clip(step);
  const double max_norm = options.grad_clip > 0 ? options.grad_clip : std::numeric_limits<double>::infinity();
  step.grad_norm = torch::nn::utils::clip_grad_norm_(net.parameters(), max_norm);
  return step;
}

}  // namespace ddpm
