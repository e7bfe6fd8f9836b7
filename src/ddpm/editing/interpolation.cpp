// Spherical interpolation, and DDIM's inversion and generation on either side of it.
#include "ddpm/editing/interpolation.h"

#include <fmt/format.h>

#include <stdexcept>

#include "ddpm/samplers/ddim.h"

namespace ddpm {

torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& weights) {
  TORCH_CHECK(a.sizes() == b.sizes() && a.size(0) == 1, "slerp: a and b must be single items of one shape, got ",
              a.sizes(), " and ", b.sizes());
  const auto a64 = a.flatten().to(torch::kFloat64), b64 = b.flatten().to(torch::kFloat64);
  const double cos_theta =
      std::clamp((a64.dot(b64) / (a64.norm() * b64.norm())).item<double>(), -1.0, 1.0);
  const double theta = std::acos(cos_theta);
  auto w = weights.to(a.device(), torch::kFloat64).unsqueeze(1);
  torch::Tensor wa, wb;
  if (std::sin(theta) < 1e-6) {  // parallel: the arc is the chord
    wa = 1.0 - w;
    wb = w;
  } else {
    wa = torch::sin((1.0 - w) * theta) / std::sin(theta);
    wb = torch::sin(w * theta) / std::sin(theta);
  }
  auto frames = wa * a64.unsqueeze(0) + wb * b64.unsqueeze(0);
  auto shape = a.sizes().vec();
  shape[0] = weights.size(0);
  return frames.reshape(shape).to(a.dtype());
}

torch::Tensor interpolation_weights(int64_t frames) {
  if (frames < 2) throw std::invalid_argument(fmt::format("interpolation needs at least 2 frames, got {}", frames));
  return torch::linspace(0.0, 1.0, frames, torch::kFloat64);
}

torch::Tensor interpolate_inputs(const Schedule& schedule, const NoisePredictor& ends_model,
                                 const NoisePredictor& frames_model, const torch::Tensor& a, const torch::Tensor& b,
                                 int64_t frames, const std::vector<int64_t>& timesteps, bool clip_x0, at::Generator& gen) {
  const auto weights = interpolation_weights(frames);
  const auto latents = ddim_invert(schedule, timesteps, ends_model, torch::cat({a, b}));
  auto x_T = slerp(latents.slice(0, 0, 1), latents.slice(0, 1, 2), weights);
  DDIMOptions options;
  options.clip_x0 = clip_x0;
  return ddim_sample(schedule, timesteps, frames_model, std::move(x_T), gen, options);
}

}  // namespace ddpm
