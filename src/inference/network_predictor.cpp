#include "inference/network_predictor.h"

#include <stdexcept>

#include <fmt/format.h>

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net) {
  net.eval();
  return [&net](const torch::Tensor& x_t, const torch::Tensor& t) {
    torch::NoGradGuard no_grad;
    auto eps = net.forward(x_t, t);
    // Weights that overflow (a corrupt file, a diverged run) give NaN or infinity here; stopping at the first
    // such prediction names the cause, where letting it through writes a black image or prints nan.
    if (!torch::isfinite(eps).all().item<bool>())
      throw std::runtime_error(fmt::format("the network's prediction is not finite (NaN or infinity) at step index {}: "
                                           "its weights overflow (a corrupt model file or a diverged run)",
                                           t.max().item<int64_t>()));
    return eps;
  };
}

}  // namespace ddpm
