// The parameterisations as a table: a new one is one row.
#include "ddpm/core/prediction.h"

#include <fmt/format.h>

#include <stdexcept>

#include "ddpm/io/text.h"

namespace ddpm {
namespace {

using Coefficients = std::pair<torch::Tensor, torch::Tensor>;  // √ᾱ_t and √(1 − ᾱ_t), shaped like `like`

Coefficients at(const Schedule& s, const torch::Tensor& t, const torch::Tensor& like) {
  return {extract(s.sqrt_alphas_cumprod, t, like), extract(s.sqrt_one_minus_alphas_cumprod, t, like)};
}

struct PredictionKind {
  Prediction kind;
  const char* name;
  torch::Tensor (*target)(const Coefficients&, const torch::Tensor& x0, const torch::Tensor& eps);
  torch::Tensor (*eps)(const Coefficients&, const torch::Tensor& x_t, const torch::Tensor& output);
  torch::Tensor (*x0_scale)(const torch::Tensor& snr);  // the target's squared error = x_0's × this
  const char* help;
};

const PredictionKind kPredictionKinds[] = {
    {Prediction::epsilon, "epsilon", [](const Coefficients&, const torch::Tensor&, const torch::Tensor& eps) { return eps; },
     [](const Coefficients&, const torch::Tensor&, const torch::Tensor& out) { return out; },
     [](const torch::Tensor& snr) { return snr; },
     "epsilon: the noise (Ho et al.; the default)"},
    {Prediction::x0, "x0", [](const Coefficients&, const torch::Tensor& x0, const torch::Tensor&) { return x0; },
     [](const Coefficients& c, const torch::Tensor& x_t, const torch::Tensor& out) { return (x_t - c.first * out) / c.second; },
     [](const torch::Tensor& snr) { return torch::ones_like(snr); },
     "x0: the data"},
    {Prediction::v, "v",
     [](const Coefficients& c, const torch::Tensor& x0, const torch::Tensor& eps) { return c.first * eps - c.second * x0; },
     [](const Coefficients& c, const torch::Tensor& x_t, const torch::Tensor& out) { return c.first * out + c.second * x_t; },
     [](const torch::Tensor& snr) { return snr + 1.0; },
     "v: sqrt(abar) eps - sqrt(1 - abar) x0 (Salimans & Ho 2022)"},
};

const PredictionKind& row(Prediction kind) {
  for (const auto& r : kPredictionKinds)
    if (r.kind == kind) return r;
  throw std::logic_error("unknown prediction kind");
}

}  // namespace

std::vector<std::string> prediction_kinds() { return column(kPredictionKinds, &PredictionKind::name); }
std::vector<std::string> prediction_help() { return column(kPredictionKinds, &PredictionKind::help); }

Prediction parse_prediction(const std::string& name) {
  for (const auto& r : kPredictionKinds)
    if (name == r.name) return r.kind;
  throw std::invalid_argument(fmt::format("unknown prediction '{}' (choose {})", name, one_of(prediction_kinds())));
}

std::string to_string(Prediction kind) { return row(kind).name; }

torch::Tensor prediction_target(Prediction kind, const Schedule& s, const torch::Tensor& x0, const torch::Tensor& eps,
                                const torch::Tensor& t) {
  return row(kind).target(at(s, t, x0), x0, eps);
}

torch::Tensor eps_from_prediction(Prediction kind, const Schedule& s, const torch::Tensor& x_t, const torch::Tensor& t,
                                  const torch::Tensor& output) {
  if (kind == Prediction::epsilon) return output;
  return row(kind).eps(at(s, t, x_t), x_t, output);
}

torch::Tensor min_snr_weights(const Schedule& s, const torch::Tensor& t, double gamma, Prediction kind) {
  TORCH_CHECK(gamma > 0.0, "min-SNR weights need gamma > 0, got ", gamma);
  const auto abar = s.alphas_cumprod.to(t.device()).index_select(0, t);
  const auto snr = abar / (1.0 - abar);
  // ᾱ_t = 0 (only an extreme custom schedule) gives ε's weight 0/0: its limit, 1.
  return (snr.clamp_max(gamma) / row(kind).x0_scale(snr)).nan_to_num(1.0);
}

}  // namespace ddpm
