// What a network predicts from x_t (its parameterisation), and the way back to the ε that every sampler and the
// bound take. With x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. eq. 4):
//  - epsilon: ε itself (Ho et al. eq. 11-14; L_simple);
//  - x0: the data x_0, and ε = (x_t − √ᾱ_t x̂_0)/√(1 − ᾱ_t) (the inverse of eq. 15);
//  - v: v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans & Ho 2022, §4), and ε = √ᾱ_t v + √(1 − ᾱ_t) x_t.
// Training minimises the mean squared error of the prediction against its own target, so each is a weighting
// of the same error: in terms of x_0's squared error, ε's is × SNR(t), x0's × 1 and v's × (1 + SNR(t)), with
// SNR = ᾱ/(1 − ᾱ).
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "ddpm/core/schedule.h"

namespace ddpm {

enum class Prediction { epsilon, x0, v };

// The kinds' names (epsilon, x0, v) and one help line for each (core/prediction.cpp's table).
std::vector<std::string> prediction_kinds();
std::vector<std::string> prediction_help();
Prediction parse_prediction(const std::string& name);  // std::invalid_argument for an unknown name
std::string to_string(Prediction kind);

// What the network learns to output for data x0 noised with eps at step indices t (int64 [B], 0-based).
torch::Tensor prediction_target(Prediction kind, const Schedule& s, const torch::Tensor& x0, const torch::Tensor& eps,
                                const torch::Tensor& t);

// ε from the network's output at x_t.
torch::Tensor eps_from_prediction(Prediction kind, const Schedule& s, const torch::Tensor& x_t, const torch::Tensor& t,
                                  const torch::Tensor& output);

// Min-SNR-γ weights (Hang et al. 2023, eq. 7) for the squared error of `kind`'s target: the x_0-MSE weighted by
// min(SNR(t), γ), i.e. min(SNR, γ)/SNR for ε, min(SNR, γ)/(SNR + 1) for v and min(SNR, γ) for x0. The low-noise
// steps, whose ε is nearly unpredictable and whose gradients pull against the others', count less.
// Returns float64 [B] on t's device; γ > 0.
torch::Tensor min_snr_weights(const Schedule& s, const torch::Tensor& t, double gamma, Prediction kind = Prediction::epsilon);

}  // namespace ddpm
