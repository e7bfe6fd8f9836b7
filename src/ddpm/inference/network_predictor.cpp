#include "ddpm/inference/network_predictor.h"

#include <stdexcept>

#include <fmt/format.h>

#include "ddpm/models/mixed_precision.h"

namespace ddpm {

ClassNoisePredictor network_class_predictor(NoiseNetImpl& net, const Schedule& schedule, Precision precision) {
  net.eval();
  // The weights do not change while the predictor samples: in bf16, cast them once.
  std::shared_ptr<const Bf16Weights> weights;
  if (precision == Precision::bf16) weights = std::make_shared<const Bf16Weights>(net);
  return [&net, schedule, precision, weights](const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels) {
    torch::NoGradGuard no_grad;
    const PrecisionScope scope(precision, weights.get());
    auto eps = eps_from_prediction(net.prediction(), schedule, x_t, t, net.forward(x_t, t, labels));
    // Weights that overflow (a corrupt file, a diverged run) give NaN or infinity here; stopping at the first
    // such prediction names the cause, where letting it through writes a black image or prints nan.
    if (!torch::isfinite(eps).all().item<bool>())
      throw std::runtime_error(fmt::format("the network's prediction is not finite (NaN or infinity) at step index {}: "
                                           "its weights overflow (a corrupt model file or a diverged run)",
                                           t.max().item<int64_t>()));
    return eps;
  };
}

NoisePredictor network_predictor(NoiseNetImpl& net, const Schedule& schedule, Precision precision) {
  const int64_t null_label = net.classes();
  return [eps = network_class_predictor(net, schedule, precision), null_label](const torch::Tensor& x_t, const torch::Tensor& t) {
    return eps(x_t, t, null_label > 0 ? torch::full({x_t.size(0)}, null_label, t.options()) : torch::Tensor());
  };
}

}  // namespace ddpm
