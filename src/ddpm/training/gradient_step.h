// The gradient half of one step of Algorithm 1 (Ho et al. 2020), shared by the Trainer and `ddpm bench` so that
// the benchmark times exactly the code that trains: t ~ Uniform({1..T}), ε ~ N(0, I), x_t by eq. 4,
// L_simple, backward, (in a data-parallel group) the gradients averaged across ranks, gradient clipping.
// The caller then applies (or, for a non-finite step, skips) the optimizer step.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <functional>

#include "ddpm/core/schedule.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

struct GradientStep {
  torch::Tensor t;            // int64 [B], the drawn step indices (0-based)
  torch::Tensor per_example;  // [B], each example's L_simple, (ε − ε̂)² of the ε its prediction implies, unweighted
  double loss = 0.0;          // the objective minimised: the mean squared error of the network's target (L_simple
                              // for ε), weighted by min-SNR-γ if asked (or what the hook replaced it with)
  double grad_norm = 0.0;     // global gradient norm before clipping to grad_clip
};

// May replace the loss before backward (fault injection in tests).
using LossHook = std::function<torch::Tensor(const torch::Tensor& loss)>;

struct GradientOptions {
  double grad_clip = 1.0;
  // x0 is rows [offset, offset + B) of a global batch of global_batch rows (0: x0 is the whole batch). t and
  // ε are drawn for the whole global batch and sliced, so N ranks train on exactly the t and ε one process
  // would with the whole batch.
  int64_t global_batch = 0;
  int64_t offset = 0;
  // Gradient accumulation: x0's rows in this many equal consecutive micro-batches, each forward and backward
  // alone (activations of one micro-batch in memory at a time), their gradients summed with weight 1/K: the
  // gradient of the whole batch's mean loss, to float rounding.
  int64_t micro_batches = 1;
  Precision precision = Precision::fp32;  // of the network's products (models/mixed_precision.h)
  // A class-conditional network's classes of x0's rows (int64 [B]); each is replaced by null_label with
  // probability label_dropout, drawn for the whole global batch like t and ε. Undefined: no classes.
  torch::Tensor labels;
  double label_dropout = 0.0;
  int64_t null_label = 0;
  // > 0: each example's squared error weighted by Hang et al. 2023's min-SNR-γ weight for the network's
  // parameterisation (core/prediction.h; min(SNR(t), γ)/SNR(t) for ε); 0: unweighted.
  double min_snr_gamma = 0.0;
  LossHook loss_hook;  // applied to each micro-batch's mean loss
  // Called after backward, before clipping: a data-parallel group averages the gradients here.
  std::function<void(const GradientStep&)> before_clip;
};

// Puts `net` in training mode, draws t and ε (then, with labels, the label dropout) from `gen`, computes L_simple on x0 [B, ...], zeroes the
// optimizer's gradients, back-propagates and clips the gradient norm to options.grad_clip (0: no clipping).
GradientStep compute_gradient(NoiseNetImpl& net, torch::optim::Optimizer& optimizer, const Schedule& schedule,
                              const torch::Tensor& x0, at::Generator& gen, const GradientOptions& options);

}  // namespace ddpm
