// A network as the NoisePredictor samplers expect: evaluation mode, no autograd, and a prediction that is
// not finite is an error (std::runtime_error), never a sample.
#pragma once

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

// `precision`: of the network's products (models/mixed_precision.h); the prediction is fp32 either way. In
// bf16 the predictor casts the weights once, when it is made (a weight changed since is cast at each call).
// A network that predicts x_0 or v has its output turned into ε with `schedule` (core/prediction.h).
// A class-conditional network predicts without a class (its null label): ε(x_t, t, ∅).
NoisePredictor network_predictor(NoiseNetImpl& net, const Schedule& schedule, Precision precision = Precision::fp32);

// The same for a class-conditional network, taking the labels with each call (core/guidance.h binds them).
ClassNoisePredictor network_class_predictor(NoiseNetImpl& net, const Schedule& schedule, Precision precision = Precision::fp32);

}  // namespace ddpm
