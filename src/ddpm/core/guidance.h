// Classifier-free guidance (Ho & Salimans 2021): a class-conditional noise predictor bound to the classes
// asked for, with guidance weight w, as the plain NoisePredictor every sampler takes, so that ancestral,
// respaced, DDIM and Langevin sampling are guided by the same code.
#pragma once

#include <torch/types.h>

#include "ddpm/core/noise_predictor.h"

namespace ddpm {

// ε̃(x_t, t) = (1 + w) ε(x_t, t, c) − w ε(x_t, t, ∅) (Ho & Salimans eq. 6) for the classes `labels` (int64
// [B], one per row of x_t; `null_label` rows ask for ε(x_t, t, ∅) and stay unguided). w = 0 is plain
// conditional sampling at one network call per step; w ≠ 0 evaluates both predictions in one batched call
// of 2B rows. Throws std::invalid_argument for a w that is not finite or below 0, or labels outside 0..null_label.
NoisePredictor class_guided_predictor(ClassNoisePredictor eps, torch::Tensor labels, double w, int64_t null_label);

// Checks that `labels` is an int64 [B] tensor of values in 0..null_label; `what` names it in the error.
void check_class_labels(const torch::Tensor& labels, int64_t batch, int64_t null_label, const char* what);

}  // namespace ddpm
