// A network as the NoisePredictor samplers expect: evaluation mode, no autograd.
#pragma once

#include "core/noise_predictor.h"
#include "models/noise_net.h"

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net);

}  // namespace ddpm
