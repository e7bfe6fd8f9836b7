// Gaussian mixtures: construction, validation, sampling and the exact diffused density, score and ε*.
// Each covariance is diagonalised once, Σ_k = U_k Λ_k U_kᵀ; then ᾱ Σ_k + (1 - ᾱ) I = U_k (ᾱ Λ_k + 1 - ᾱ) U_kᵀ,
// so every t shares the eigenvectors and only the eigenvalues move — no per-t factorisation.
#include "ddpm/analytic/gaussian_mixture.h"

#include "ddpm/core/guidance.h"

#include <fstream>
#include <stdexcept>

namespace ddpm {
namespace {

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

struct Eigen {
  torch::Tensor values;   // [K, d]
  torch::Tensor vectors;  // [K, d, d], columns are eigenvectors; undefined when every Σ_k is diagonal
};

Eigen eigen(const GaussianMixture& m) {
  auto diagonal = torch::diagonal(m.covariances, 0, 1, 2);  // [K, d]
  // Diagonal covariances (all the built-ins) need no rotation: the samplers call this 10⁴ times per run.
  if (torch::equal(torch::diag_embed(diagonal), m.covariances)) return {diagonal.clone(), torch::Tensor()};
  auto [values, vectors] = torch::linalg_eigh(m.covariances, "L");
  return {values, vectors};
}

// ᾱ as [n, 1, 1] (or [1, 1, 1]) float64 for broadcasting against [n, K, d].
torch::Tensor alpha_bar_3d(const torch::Tensor& alpha_bar) {
  return alpha_bar.to(torch::kFloat64).reshape({-1, 1, 1});
}

// The quantities shared by the density and the score: y = U_kᵀ (x - √ᾱ μ_k) and the variances v
// along the eigenvectors, both [n, K, d].
struct Whitened {
  torch::Tensor y, v;
};

Whitened whiten(const GaussianMixture& m, const Eigen& e, const torch::Tensor& x, const torch::Tensor& alpha_bar) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == m.dim(), "points must be [n, ", m.dim(), "], got ", x.sizes());
  auto ab = alpha_bar_3d(alpha_bar);
  auto diff = x.to(torch::kFloat64).unsqueeze(1) - ab.sqrt() * m.means.unsqueeze(0);  // [n, K, d]
  auto y = e.vectors.defined() ? torch::einsum("nkd,kde->nke", {diff, e.vectors}) : diff;
  auto v = ab * e.values.unsqueeze(0) + (1.0 - ab);
  return {y, v};
}

torch::Tensor log_joint(const GaussianMixture& m, const Whitened& w) {
  const double log_2pi = std::log(2.0 * M_PI);
  auto log_n = -0.5 * (w.y.pow(2) / w.v + w.v.log() + log_2pi).sum(-1);  // [n, K]
  return log_n + torch::tensor(m.weights, f64()).log().unsqueeze(0);
}

torch::Tensor score_from(const GaussianMixture& m, const Eigen& e, const Whitened& w) {
  auto r = torch::softmax(log_joint(m, w), 1);                                    // [n, K], by log-sum-exp
  auto whitened = w.y / w.v;
  auto per_component = e.vectors.defined() ? -torch::einsum("nke,kde->nkd", {whitened, e.vectors}) : -whitened;  // -C_k⁻¹ (x - m_k)
  return (r.unsqueeze(-1) * per_component).sum(1);                               // [n, d]
}

GaussianMixture isotropic(std::vector<double> weights, const std::vector<std::vector<double>>& means, double std) {
  const int64_t K = static_cast<int64_t>(means.size()), d = static_cast<int64_t>(means[0].size());
  auto mu = torch::empty({K, d}, f64());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < d; ++j) mu[k][j] = means[k][j];
  auto cov = (std * std) * torch::eye(d, f64()).expand({K, d, d}).clone();
  return {std::move(weights), mu, cov};
}

}  // namespace

void validate_mixture(const GaussianMixture& m) {
  const int64_t K = m.components();
  if (K < 1) throw std::invalid_argument("mixture: needs at least one component (weights is empty)");
  double total = 0.0;
  for (std::size_t k = 0; k < m.weights.size(); ++k) {
    if (!(m.weights[k] > 0.0))
      throw std::invalid_argument(fmt::format("mixture: weight {} is {}, must be positive", k, m.weights[k]));
    total += m.weights[k];
  }
  if (std::abs(total - 1.0) > 1e-6)
    throw std::invalid_argument(fmt::format("mixture: weights sum to {}, must sum to 1 (within 1e-6)", total));
  if (!m.means.defined() || m.means.dim() != 2 || m.means.size(0) != K || m.means.size(1) < 1)
    throw std::invalid_argument(fmt::format("mixture: means must be [K = {}, d], got {}", K,
                                            m.means.defined() ? c10::str(m.means.sizes()) : "nothing"));
  const int64_t d = m.means.size(1);
  if (d > kMaxMixtureDimension)
    throw std::invalid_argument(fmt::format("mixture: dimension {} is above the limit of {}", d, kMaxMixtureDimension));
  if (!m.covariances.defined() || m.covariances.dim() != 3 || m.covariances.size(0) != K ||
      m.covariances.size(1) != d || m.covariances.size(2) != d)
    throw std::invalid_argument(fmt::format("mixture: covariances must be [K = {}, d = {}, d], got {}", K, d,
                                            m.covariances.defined() ? c10::str(m.covariances.sizes())
                                                                    : "nothing"));
  if (!torch::isfinite(m.means).all().item<bool>() || !torch::isfinite(m.covariances).all().item<bool>())
    throw std::invalid_argument("mixture: means and covariances must be finite");
  for (int64_t k = 0; k < K; ++k) {
    auto c = m.covariances[k];
    if (!torch::allclose(c, c.t(), 0.0, 1e-9 * (1.0 + c.abs().max().item<double>())))
      throw std::invalid_argument(fmt::format("mixture: covariance {} is not symmetric", k));
    if (!(torch::linalg_eigvalsh(c, "L").min().item<double>() > 0.0))
      throw std::invalid_argument(fmt::format("mixture: covariance {} is not positive definite", k));
  }
}

std::vector<std::string> builtin_mixture_names() { return {"two-modes", "ring8", "grid25"}; }

GaussianMixture builtin_mixture(const std::string& name) {
  if (name == "two-modes") return isotropic({0.3, 0.7}, {{-2.0, 0.0}, {2.0, 0.0}}, 0.5);
  if (name == "ring8") {
    std::vector<std::vector<double>> means;
    for (int k = 0; k < 8; ++k) means.push_back({2.0 * std::cos(k * M_PI / 4), 2.0 * std::sin(k * M_PI / 4)});
    return isotropic(std::vector<double>(8, 1.0 / 8), means, 0.2);
  }
  if (name == "grid25") {
    std::vector<std::vector<double>> means;
    for (int i = -2; i <= 2; ++i)
      for (int j = -2; j <= 2; ++j) means.push_back({double(i), double(j)});
    return isotropic(std::vector<double>(25, 1.0 / 25), means, 0.1);
  }
  throw std::invalid_argument(fmt::format("unknown mixture '{}' (built-in: two-modes, ring8, grid25)", name));
}

GaussianMixture read_mixture_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("cannot open mixture file '{}'", path));
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("mixture file '{}': not valid JSON ({})", path, e.what()));
  }
  auto fail = [&](const std::string& what) {
    return std::invalid_argument(fmt::format("mixture file '{}': {}", path, what));
  };
  try {
    if (!j.is_object() || !j.contains("weights") || !j.contains("means"))
      throw fail("needs an object with \"weights\", \"means\" and \"covariances\" or \"stds\"");
    auto weights = j.at("weights").get<std::vector<double>>();
    auto means = j.at("means").get<std::vector<std::vector<double>>>();
    const int64_t K = static_cast<int64_t>(weights.size());
    if (static_cast<int64_t>(means.size()) != K || K == 0)
      throw fail(fmt::format("\"means\" has {} rows for {} weights", means.size(), K));
    const int64_t d = static_cast<int64_t>(means[0].size());
    for (const auto& row : means)
      if (static_cast<int64_t>(row.size()) != d || d == 0) throw fail("every mean must have the same, nonzero, length");
    if (d > kMaxMixtureDimension)  // before the d×d covariances are built
      throw fail(fmt::format("dimension {} is above the limit of {}", d, kMaxMixtureDimension));
    GaussianMixture m;
    m.weights = weights;
    m.means = torch::empty({K, d}, f64());
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < d; ++i) m.means[k][i] = means[k][i];
    if (j.contains("covariances")) {
      auto covs = j.at("covariances").get<std::vector<std::vector<std::vector<double>>>>();
      if (static_cast<int64_t>(covs.size()) != K) throw fail(fmt::format("\"covariances\" has {} entries, need {}", covs.size(), K));
      m.covariances = torch::empty({K, d, d}, f64());
      for (int64_t k = 0; k < K; ++k) {
        if (static_cast<int64_t>(covs[k].size()) != d) throw fail(fmt::format("covariance {} must be {}x{}", k, d, d));
        for (int64_t r = 0; r < d; ++r) {
          if (static_cast<int64_t>(covs[k][r].size()) != d) throw fail(fmt::format("covariance {} must be {}x{}", k, d, d));
          for (int64_t c = 0; c < d; ++c) m.covariances[k][r][c] = covs[k][r][c];
        }
      }
    } else if (j.contains("stds")) {
      auto stds = j.at("stds").get<std::vector<double>>();
      if (static_cast<int64_t>(stds.size()) != K) throw fail(fmt::format("\"stds\" has {} entries, need {}", stds.size(), K));
      m.covariances = torch::empty({K, d, d}, f64());
      for (int64_t k = 0; k < K; ++k) m.covariances[k] = stds[k] * stds[k] * torch::eye(d, f64());
    } else {
      throw fail("needs \"covariances\" (K d×d matrices) or \"stds\" (K numbers)");
    }
    validate_mixture(m);
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw fail(fmt::format("wrong type of field ({})", e.what()));
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    if (msg.rfind("mixture file", 0) == 0) throw;
    throw fail(msg);
  }
}

GaussianMixture load_mixture(const std::string& name_or_path) {
  for (const auto& name : builtin_mixture_names())
    if (name == name_or_path) return builtin_mixture(name);
  if (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json")
    return read_mixture_json(name_or_path);
  throw std::invalid_argument(fmt::format(
      "unknown mixture '{}' (built-in: two-modes, ring8, grid25; or a path to a .json file)", name_or_path));
}

MixtureSample sample_mixture(const GaussianMixture& m, int64_t n, at::Generator& gen, torch::Dtype dtype) {
  TORCH_CHECK(n >= 0, "sample size must be >= 0, got ", n);
  auto labels = torch::multinomial(torch::tensor(m.weights, f64()), n, /*replacement=*/true, gen);
  auto chol = torch::linalg_cholesky(m.covariances);  // [K, d, d]
  auto z = torch::randn({n, m.dim(), 1}, gen, f64());
  auto x = m.means.index_select(0, labels) + torch::matmul(chol.index_select(0, labels), z).squeeze(-1);
  return {x.to(dtype), labels};
}

torch::Tensor sample_points(const GaussianMixture& m, int64_t n, at::Generator& gen, torch::Dtype dtype) {
  return sample_mixture(m, n, gen, dtype).points;
}

GaussianMixture diffuse(const GaussianMixture& m, double alpha_bar) {
  TORCH_CHECK(alpha_bar > 0.0 && alpha_bar <= 1.0, "alpha_bar must be in (0, 1], got ", alpha_bar);
  auto eye = torch::eye(m.dim(), f64()).unsqueeze(0);
  return {m.weights, std::sqrt(alpha_bar) * m.means, alpha_bar * m.covariances + (1.0 - alpha_bar) * eye};
}

torch::Tensor component_log_joint(const GaussianMixture& m, const torch::Tensor& x, const torch::Tensor& alpha_bar) {
  const auto e = eigen(m);
  return log_joint(m, whiten(m, e, x, alpha_bar));
}

torch::Tensor log_density(const GaussianMixture& m, const torch::Tensor& x, const torch::Tensor& alpha_bar) {
  return torch::logsumexp(component_log_joint(m, x, alpha_bar), 1);
}

torch::Tensor log_density(const GaussianMixture& m, const torch::Tensor& x) {
  return log_density(m, x, torch::ones({1}, f64()));
}

torch::Tensor mixture_score(const GaussianMixture& m, const torch::Tensor& x, const torch::Tensor& alpha_bar) {
  const auto e = eigen(m);
  return score_from(m, e, whiten(m, e, x, alpha_bar)).to(x.dtype());
}

torch::Tensor responsibilities(const GaussianMixture& m, const torch::Tensor& x) {
  return torch::softmax(component_log_joint(m, x, torch::ones({1}, f64())), 1);
}

torch::Tensor assign_components(const GaussianMixture& m, const torch::Tensor& x) {
  return component_log_joint(m, x, torch::ones({1}, f64())).argmax(1);
}

NoisePredictor mixture_noise_predictor(const GaussianMixture& mixture, const Schedule& schedule) {
  validate_mixture(mixture);
  return [m = mixture, e = eigen(mixture), alphas_cumprod = schedule.alphas_cumprod](const torch::Tensor& xt,
                                                                                     const torch::Tensor& t) {
    TORCH_CHECK(t.dim() == 1 && t.size(0) == xt.size(0), "timesteps must be [", xt.size(0), "], got ", t.sizes());
    auto ab = alphas_cumprod.index_select(0, t.to(torch::kCPU, torch::kLong));           // [B] float64
    auto score = score_from(m, e, whiten(m, e, xt.to(torch::kCPU), ab));                // [B, d]
    return (-(1.0 - ab).sqrt().unsqueeze(1) * score).to(xt.options());
  };
}

GaussianMixture mixture_component(const GaussianMixture& mixture, int64_t k) {
  TORCH_CHECK(k >= 0 && k < mixture.components(), "component ", k, " of a mixture of ", mixture.components());
  return {{1.0}, mixture.means.slice(0, k, k + 1).clone(), mixture.covariances.slice(0, k, k + 1).clone()};
}

ClassNoisePredictor mixture_class_predictor(const GaussianMixture& mixture, const Schedule& schedule) {
  std::vector<NoisePredictor> by_label;  // one per component, then the whole mixture for the null label
  for (int64_t k = 0; k < mixture.components(); ++k)
    by_label.push_back(mixture_noise_predictor(mixture_component(mixture, k), schedule));
  by_label.push_back(mixture_noise_predictor(mixture, schedule));
  return [by_label](const torch::Tensor& xt, const torch::Tensor& t, const torch::Tensor& labels) {
    check_class_labels(labels, xt.size(0), static_cast<int64_t>(by_label.size()) - 1, "mixture classes");
    auto eps = torch::empty_like(xt);
    const auto cpu_labels = labels.to(torch::kCPU);
    for (size_t c = 0; c < by_label.size(); ++c) {
      const auto rows = (cpu_labels == static_cast<int64_t>(c)).nonzero().flatten().to(xt.device());
      if (rows.numel() > 0) eps.index_copy_(0, rows, by_label[c](xt.index_select(0, rows), t.index_select(0, rows)));
    }
    return eps;
  };
}

}  // namespace ddpm
