// A network as the NoisePredictor samplers expect: evaluation mode, no autograd, and a prediction that is
// not finite is an error (std::runtime_error), never a sample.
#pragma once

#include "core/noise_predictor.h"
#include "models/noise_net.h"

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net);

}  // namespace ddpm
