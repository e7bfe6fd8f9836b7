#include "inference/network_predictor.h"

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net) {
  net.eval();
  return [&net](const torch::Tensor& x_t, const torch::Tensor& t) {
    torch::NoGradGuard no_grad;
    return net.forward(x_t, t);
  };
}

}  // namespace ddpm
