// A network as the NoisePredictor samplers expect: evaluation mode, no autograd.
#pragma once

#include "models/noise_net.h"
#include "samplers/noise_predictor.h"

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net);

}  // namespace ddpm
