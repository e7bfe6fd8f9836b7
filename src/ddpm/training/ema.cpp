#include "ddpm/training/ema.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ddpm/models/module_weights.h"

namespace ddpm {

std::vector<std::string> ema_warmup_kinds() { return {"ratio", "power", "none"}; }

double ema_warmup_decay(const std::string& warmup, int64_t updates) {
  const double n = static_cast<double>(updates);
  if (warmup == "ratio") return (1.0 + n) / (10.0 + n);
  if (warmup == "power") return 1.0 - std::pow(1.0 + n, -2.0 / 3.0);
  if (warmup == "none") return 1.0;
  throw std::invalid_argument(
      fmt::format("unknown EMA warm-up '{}' (known: {})", warmup, fmt::join(ema_warmup_kinds(), ", ")));
}

Ema::Ema(double decay, std::string warmup) : decay_(decay), warmup_(std::move(warmup)) {
  if (!(decay >= 0.0 && decay <= 1.0)) throw std::invalid_argument(fmt::format("EMA decay {} is not in [0, 1]", decay));
  ema_warmup_decay(warmup_, 0);  // refuses an unknown warm-up now rather than at the first update
}

double Ema::current_decay() const { return std::min(decay_, ema_warmup_decay(warmup_, updates_)); }

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
