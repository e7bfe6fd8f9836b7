#include "inference/network_predictor.h"

#include <stdexcept>

#include <fmt/format.h>

#include "models/mixed_precision.h"

namespace ddpm {

NoisePredictor network_predictor(NoiseNetImpl& net, Precision precision) {
  net.eval();
  // The weights do not change while the predictor samples: in bf16, cast them once.
  std::shared_ptr<const Bf16Weights> weights;
  if (precision == Precision::bf16) weights = std::make_shared<const Bf16Weights>(net);
  return [&net, precision, weights](const torch::Tensor& x_t, const torch::Tensor& t) {
    torch::NoGradGuard no_grad;
    const PrecisionScope scope(precision, weights.get());
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
