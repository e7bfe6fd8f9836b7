#include "training/ema.h"

#include <algorithm>

#include "models/module_weights.h"

namespace ddpm {

double Ema::current_decay() const {
  const double n = static_cast<double>(updates_);
  return std::min(decay_, (1.0 + n) / (10.0 + n));
}

void Ema::update(torch::nn::Module& average, const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const double d = current_decay();
  auto avg_params = average.parameters();
  auto params = model.parameters();
  TORCH_CHECK(avg_params.size() == params.size(), "EMA model has ", avg_params.size(), " parameters, model ",
              params.size());
  for (size_t i = 0; i < params.size(); ++i) avg_params[i].mul_(d).add_(params[i].detach(), 1.0 - d);
  copy_buffers(average, model);
  ++updates_;
}

}  // namespace ddpm
