#include "ddpm/core/guidance.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace ddpm {

void check_class_labels(const torch::Tensor& labels, int64_t batch, int64_t null_label, const char* what) {
  if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != torch::kLong)
    throw std::invalid_argument(fmt::format("{}: class labels must be an int64 vector", what));
  if (batch >= 0 && labels.size(0) != batch)
    throw std::invalid_argument(fmt::format("{}: {} class labels for {} samples", what, labels.size(0), batch));
  if (labels.numel() == 0) return;
  // One copy to the host for both bounds: on a GPU every .item() waits for the device.
  const auto [lowest, highest] = torch::aminmax(labels);
  const auto bounds = torch::stack({lowest, highest}).to(torch::kCPU);
  const int64_t lo = bounds[0].item<int64_t>(), hi = bounds[1].item<int64_t>();
  if (lo < 0 || hi > null_label)
    throw std::invalid_argument(fmt::format("{}: class labels must be from 0 to {} (the null label), got {}..{}", what,
                                            null_label, lo, hi));
}

NoisePredictor class_guided_predictor(ClassNoisePredictor eps, torch::Tensor labels, double w, int64_t null_label) {
  if (!(std::isfinite(w) && w >= 0))
    throw std::invalid_argument(fmt::format("the guidance weight must be a finite number >= 0, got {}", w));
  check_class_labels(labels, -1, null_label, "guidance");
  if (w == 0)
    return [eps = std::move(eps), labels](const torch::Tensor& x_t, const torch::Tensor& t) {
      return eps(x_t, t, labels.to(x_t.device()));
    };
  return [eps = std::move(eps), labels, w, null_label](const torch::Tensor& x_t, const torch::Tensor& t) {
    const int64_t B = x_t.size(0);
    const auto c = labels.to(x_t.device());
    // Both predictions in one call: rows [0, B) conditional, [B, 2B) unconditional.
    const auto both = eps(torch::cat({x_t, x_t}), torch::cat({t, t}), torch::cat({c, torch::full_like(c, null_label)}));
    const auto cond = both.slice(0, 0, B), uncond = both.slice(0, B, 2 * B);
    return (1.0 + w) * cond - w * uncond;
  };
}

}  // namespace ddpm
