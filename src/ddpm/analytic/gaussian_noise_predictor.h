// The exact noise predictor for Gaussian data x_0 ~ N(m, s² I): since x_t = √ᾱ x_0 + √(1-ᾱ) ε is jointly
// Gaussian with ε, E[ε | x_t] = √(1-ᾱ_t) (x_t - √ᾱ_t m) / (ᾱ_t s² + 1 - ᾱ_t). It is the minimiser of
// L_simple, so a sampler driven by it isolates the sampler's own (discretization/initialization) error.
#pragma once

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

NoisePredictor gaussian_noise_predictor(const Schedule& schedule, double mean, double stddev);

}  // namespace ddpm
