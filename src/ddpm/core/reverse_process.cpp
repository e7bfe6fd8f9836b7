// The forward posterior, the ε-parameterisation, and one fixed-variance reverse step.
#include "ddpm/core/reverse_process.h"

#include <stdexcept>

namespace ddpm {

std::vector<std::string> variance_kinds() { return {to_string(VarianceKind::Posterior), to_string(VarianceKind::Beta)}; }

VarianceKind parse_variance_kind(const std::string& name) {
  for (auto kind : {VarianceKind::Posterior, VarianceKind::Beta})
    if (name == to_string(kind)) return kind;
  throw std::invalid_argument(fmt::format("unknown variance '{}' (choose posterior or beta)", name));
}

std::string to_string(VarianceKind kind) { return kind == VarianceKind::Posterior ? "posterior" : "beta"; }

torch::Tensor posterior_mean(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& xt,
                             const torch::Tensor& t) {
  // Ho et al. eq. 7: μ̃ = [(1 - ᾱ_{t-1}) √α_t x_t + (1 - α_t) √ᾱ_{t-1} x_0] / (1 - ᾱ_t)
  return extract(s.posterior_mean_coef1, t, xt) * x0 + extract(s.posterior_mean_coef2, t, xt) * xt;
}

DiagonalGaussian q_posterior(const Schedule& s, const torch::Tensor& x0, const torch::Tensor& xt,
                             const torch::Tensor& t) {
  return {posterior_mean(s, x0, xt, t), extract(s.posterior_variance, t, xt),
          extract(s.posterior_log_variance_clipped, t, xt)};
}

torch::Tensor predict_x0_from_eps(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                                  const torch::Tensor& eps) {
  // eq. 15 written as 1/√ᾱ_t · x_t - √(1/ᾱ_t - 1) · ε
  return extract(s.sqrt_recip_alphas_cumprod, t, xt) * xt - extract(s.sqrt_recipm1_alphas_cumprod, t, xt) * eps;
}

torch::Tensor predict_eps_from_x0(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                                  const torch::Tensor& x0) {
  return (xt - extract(s.sqrt_alphas_cumprod, t, xt) * x0) / extract(s.sqrt_one_minus_alphas_cumprod, t, xt);
}

torch::Tensor mean_from_eps(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                            const torch::Tensor& eps) {
  // eq. 11: μ_θ = 1/√α_t · (x_t - β_t/√(1 - ᾱ_t) · ε_θ)
  auto eps_coef = extract(s.betas / s.sqrt_one_minus_alphas_cumprod, t, xt);
  return extract(s.sqrt_recip_alphas, t, xt) * (xt - eps_coef * eps);
}

DiagonalGaussian reverse_variance(const Schedule& s, VarianceKind kind, const torch::Tensor& t,
                                  const torch::Tensor& like) {
  if (kind == VarianceKind::Posterior)
    return {torch::Tensor(), extract(s.posterior_variance, t, like),
            extract(s.posterior_log_variance_clipped, t, like)};
  auto log_beta = s.betas.log();
  if (s.T > 1) log_beta = torch::cat({s.posterior_variance.slice(0, 1, 2).log(), log_beta.slice(0, 1)});
  return {torch::Tensor(), extract(s.betas, t, like), extract(log_beta, t, like)};
}

ReverseStep p_mean_variance(const Schedule& s, const torch::Tensor& xt, const torch::Tensor& t,
                            const torch::Tensor& eps, const ReverseStepOptions& options) {
  TORCH_CHECK(eps.sizes() == xt.sizes(), "noise prediction shape ", eps.sizes(), " != x_t shape ", xt.sizes());
  ReverseStep step;
  if (options.variance_table.defined()) {
    TORCH_CHECK(options.variance_table.sizes() == torch::IntArrayRef{s.T}, "variance table shape ",
                options.variance_table.sizes(), " != [T] = [", s.T, "]");
    step.dist = {torch::Tensor(), extract(options.variance_table, t, xt), extract(options.variance_table.log(), t, xt)};
  } else {
    step.dist = reverse_variance(s, options.variance, t, xt);
  }
  step.pred_x0 = predict_x0_from_eps(s, xt, t, eps);
  if (options.clip_x0) {
    // Clipping changes x_θ, so the mean must come from eq. 7 with the clipped x_θ.
    step.pred_x0 = step.pred_x0.clamp(-1.0, 1.0);
    step.dist.mean = posterior_mean(s, step.pred_x0, xt, t);
  } else {
    step.dist.mean = mean_from_eps(s, xt, t, eps);
  }
  return step;
}

torch::Tensor p_sample_from(const ReverseStep& step, const torch::Tensor& t, const torch::Tensor& z) {
  const auto& mean = step.dist.mean;
  TORCH_CHECK(z.sizes() == mean.sizes(), "noise shape ", z.sizes(), " != x shape ", mean.sizes());
  // Algorithm 2, line 3: z = 0 at the final step t = 1 (index 0).
  std::vector<int64_t> shape(mean.dim(), 1);
  shape[0] = mean.size(0);
  auto nonzero = t.ne(0).to(mean.options()).view(shape);
  return mean + nonzero * (0.5 * step.dist.log_variance).exp() * z;
}

}  // namespace ddpm
