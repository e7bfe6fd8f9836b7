// Variance schedules and their derived tables, computed in float64.
#include "ddpm/core/schedule.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ddpm {
namespace {

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

void check_range(int64_t T, double beta_start, double beta_end) {
  if (T < 1) throw std::invalid_argument(fmt::format("timesteps must be >= 1, got {}", T));
  if (!(beta_start > 0.0 && beta_end < 1.0 && beta_start <= beta_end))
    throw std::invalid_argument(fmt::format(
        "need 0 < beta_start <= beta_end < 1, got beta_start={} beta_end={}", beta_start, beta_end));
}

}  // namespace

torch::Tensor linear_betas(int64_t T, double beta_start, double beta_end) {
  check_range(T, beta_start, beta_end);
  // Ho et al. (and the lecture notes' code): evenly spaced from β_1 to β_T. With T = 1 this is just β_start.
  return torch::linspace(beta_start, beta_end, T, f64());
}

torch::Tensor quadratic_betas(int64_t T, double beta_start, double beta_end) {
  check_range(T, beta_start, beta_end);
  // Evenly spaced in √β (improved-diffusion / diffusers "scaled_linear").
  return torch::linspace(std::sqrt(beta_start), std::sqrt(beta_end), T, f64()).pow(2);
}

torch::Tensor sigmoid_betas(int64_t T, double beta_start, double beta_end) {
  check_range(T, beta_start, beta_end);
  // A sigmoid over [-6, 6] rescaled to [β_start, β_end] (Ho et al.'s code, "sigmoid").
  auto s = torch::sigmoid(torch::linspace(-6.0, 6.0, T, f64()));
  return s * (beta_end - beta_start) + beta_start;
}

torch::Tensor cosine_betas(int64_t T, double s, double max_beta) {
  if (T < 1) throw std::invalid_argument(fmt::format("timesteps must be >= 1, got {}", T));
  if (!(max_beta > 0.0 && max_beta < 1.0))
    throw std::invalid_argument(fmt::format("max_beta must be in (0, 1), got {}", max_beta));
  // Nichol & Dhariwal eq. 17: ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2);
  // β_t = 1 - ᾱ(t)/ᾱ(t-1), clipped at max_beta so that the last steps do not become singular.
  auto u = torch::arange(0, T + 1, f64()) / static_cast<double>(T);
  auto f = torch::cos((u + s) / (1.0 + s) * (M_PI / 2.0)).pow(2);
  auto alpha_bar = f / f[0];
  auto betas = 1.0 - alpha_bar.slice(0, 1) / alpha_bar.slice(0, 0, T);
  return betas.clamp(0.0, max_beta);
}

torch::Tensor read_betas_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("cannot open betas file '{}'", path));
  std::vector<double> values;
  std::string token;
  while (in >> token) {
    std::size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size())
      throw std::invalid_argument(fmt::format("betas file '{}': '{}' is not a number", path, token));
    values.push_back(v);
  }
  if (values.empty()) throw std::invalid_argument(fmt::format("betas file '{}' holds no values", path));
  return torch::tensor(values, f64());
}

Schedule Schedule::from_betas(torch::Tensor betas, std::string kind) {
  TORCH_CHECK(betas.dim() == 1 && betas.numel() >= 1, "betas must be a non-empty 1-D tensor");
  betas = betas.to(torch::kFloat64).contiguous();
  const bool finite = torch::isfinite(betas).all().item<bool>();
  const double lo = betas.min().item<double>(), hi = betas.max().item<double>();
  if (!finite || !(lo > 0.0) || !(hi < 1.0))
    throw std::invalid_argument(
        fmt::format("every beta must lie in (0, 1); got min {} max {}", lo, hi));

  Schedule s;
  s.kind = std::move(kind);
  s.T = betas.size(0);
  s.betas = betas;
  s.alphas = 1.0 - betas;
  s.alphas_cumprod = torch::cumprod(s.alphas, 0);
  s.alphas_cumprod_prev = torch::cat({torch::ones({1}, f64()), s.alphas_cumprod.slice(0, 0, s.T - 1)});
  s.sqrt_alphas_cumprod = s.alphas_cumprod.sqrt();
  s.sqrt_one_minus_alphas_cumprod = (1.0 - s.alphas_cumprod).sqrt();
  s.sqrt_recip_alphas = s.alphas.rsqrt();
  s.sqrt_recip_alphas_cumprod = s.alphas_cumprod.rsqrt();
  s.sqrt_recipm1_alphas_cumprod = (1.0 / s.alphas_cumprod - 1.0).sqrt();
  // Ho et al. eq. 7: β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) · β_t ; zero at t = 1 because ᾱ_0 = 1.
  s.posterior_variance = betas * (1.0 - s.alphas_cumprod_prev) / (1.0 - s.alphas_cumprod);
  // log β̃_1 = -inf; as in Ho et al.'s code the first entry takes β̃_2 (it is only used where z = 0).
  auto first = s.T > 1 ? s.posterior_variance.slice(0, 1, 2) : s.betas.slice(0, 0, 1);
  s.posterior_log_variance_clipped = torch::cat({first, s.posterior_variance.slice(0, 1)}).log();
  // eq. 7: μ̃ = [√ᾱ_{t-1} β_t / (1 - ᾱ_t)] x_0 + [√α_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)] x_t
  s.posterior_mean_coef1 = betas * s.alphas_cumprod_prev.sqrt() / (1.0 - s.alphas_cumprod);
  s.posterior_mean_coef2 = (1.0 - s.alphas_cumprod_prev) * s.alphas.sqrt() / (1.0 - s.alphas_cumprod);
  s.snr = s.alphas_cumprod / (1.0 - s.alphas_cumprod);
  return s;
}

torch::Tensor extract(const torch::Tensor& table, const torch::Tensor& t, const torch::Tensor& like) {
  TORCH_CHECK(t.dim() == 1, "timesteps must be a 1-D tensor of indices, got ", t.sizes());
  TORCH_CHECK(t.size(0) == like.size(0), "timesteps batch ", t.size(0), " != data batch ", like.size(0));
  auto idx = t.to(table.device(), torch::kLong);
  auto values = table.index_select(0, idx).to(like.options());
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = like.size(0);
  return values.view(shape);
}

}  // namespace ddpm
