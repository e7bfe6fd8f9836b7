// Gaussian-mixture data q(x_0) = Σ_k w_k N(μ_k, Σ_k) and its exact diffusion: q(x_t) is the mixture with
// means √ᾱ_t μ_k and covariances ᾱ_t Σ_k + (1 - ᾱ_t) I, so its score and the ideal noise predictor
// ε*(x_t, t) = -√(1 - ᾱ_t) ∇ log q(x_t) (the lecture notes' mixture experiment; Ho et al. eq. 15) are known in closed form.
// Everything is computed in float64 with log-sum-exp responsibilities; results take x's dtype.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/core/schedule.h"

namespace ddpm {

struct GaussianMixture {
  std::vector<double> weights;  // w_k > 0, Σ w_k = 1
  torch::Tensor means;          // [K, d] float64
  torch::Tensor covariances;    // [K, d, d] float64, symmetric positive definite

  int64_t components() const { return static_cast<int64_t>(weights.size()); }
  int64_t dim() const { return means.size(1); }
};

// The largest dimension d accepted. The analytic denoiser and the experiments hold K d×d matrices per
// point (dimension 150 took 9 GB); these mixtures are for watching samplers in a few dimensions.
inline constexpr int64_t kMaxMixtureDimension = 32;

// Throws std::invalid_argument naming the problem: weights not positive or not summing to 1 (±1e-6),
// shapes inconsistent, dimension above kMaxMixtureDimension, a covariance not symmetric positive definite.
void validate_mixture(const GaussianMixture& mixture);

// The built-in mixtures: two-modes (weights 0.3/0.7 at (-2, 0) and (2, 0), std 0.5), ring8 (8 equal
// modes on the circle of radius 2, std 0.2), grid25 (5×5 equal modes at {-2..2}², std 0.1).
std::vector<std::string> builtin_mixture_names();
GaussianMixture builtin_mixture(const std::string& name);

// {"weights": [...], "means": [[...], ...], "covariances": [[[...]]]} or, instead of "covariances",
// "stds": [...] (isotropic Σ_k = std_k² I). Errors name the file and the field.
GaussianMixture read_mixture_json(const std::string& path);
// A built-in name, or else a path to a JSON file.
GaussianMixture load_mixture(const std::string& name_or_path);

struct MixtureSample {
  torch::Tensor points;  // [n, d]
  torch::Tensor labels;  // int64 [n], the component each point was drawn from
};
MixtureSample sample_mixture(const GaussianMixture& mixture, int64_t n, at::Generator& gen,
                             torch::Dtype dtype = torch::kFloat32);
// The points alone (what a data loader for `gmm:NAME` needs).
torch::Tensor sample_points(const GaussianMixture& mixture, int64_t n, at::Generator& gen,
                            torch::Dtype dtype = torch::kFloat32);

// q(x_t) as an explicit mixture for one ᾱ_t (ᾱ = 1 is the data itself).
GaussianMixture diffuse(const GaussianMixture& mixture, double alpha_bar);

// The closed forms below take ᾱ per point: alpha_bar is a float64 [n] tensor (or a scalar tensor).
// log w_k + log N(x; √ᾱ μ_k, ᾱ Σ_k + (1 - ᾱ) I), float64 [n, K].
torch::Tensor component_log_joint(const GaussianMixture& mixture, const torch::Tensor& x,
                                  const torch::Tensor& alpha_bar);
// log q_t(x), float64 [n].
torch::Tensor log_density(const GaussianMixture& mixture, const torch::Tensor& x, const torch::Tensor& alpha_bar);
torch::Tensor log_density(const GaussianMixture& mixture, const torch::Tensor& x);  // ᾱ = 1: the data
// ∇_x log q_t(x), shaped and typed like x.
torch::Tensor mixture_score(const GaussianMixture& mixture, const torch::Tensor& x, const torch::Tensor& alpha_bar);
// Posterior component probabilities under the data mixture (ᾱ = 1), float64 [n, K]; and their argmax.
torch::Tensor responsibilities(const GaussianMixture& mixture, const torch::Tensor& x);
torch::Tensor assign_components(const GaussianMixture& mixture, const torch::Tensor& x);

// The ideal ε*(x_t, t) = -√(1 - ᾱ_t) ∇ log q_t(x_t) for `schedule`'s ᾱ (t: 0-based int64 [B]).
NoisePredictor mixture_noise_predictor(const GaussianMixture& mixture, const Schedule& schedule);

// The mixture's components as classes (label k: component k; label K, the null label: the whole mixture): the
// ideal class-conditional ε*(x_t, t, c), which for a class is the one Gaussian's, q_t(x | c) = N(√ᾱ_t μ_c,
// ᾱ_t Σ_c + (1 - ᾱ_t) I).
ClassNoisePredictor mixture_class_predictor(const GaussianMixture& mixture, const Schedule& schedule);
// The data mixture given some coordinates: q(x_u | x_o = values) for the coordinates where `observed` (bool
// [d]) is false, again a Gaussian mixture — component k's weight ∝ w_k N(values_o; μ_ko, Σ_koo), its mean
// μ_ku + Σ_kuo Σ_koo⁻¹ (values_o − μ_ko) and covariance Σ_kuu − Σ_kuo Σ_koo⁻¹ Σ_kou (the Schur complement).
// The exact answer an inpainting of the unobserved coordinates must reproduce. values: [d] (its unobserved
// entries are ignored). Throws std::invalid_argument unless some but not all coordinates are observed. Components
// far from the observed values can get weight 0 in float64 (validate_mixture would refuse such a mixture).
GaussianMixture condition_mixture(const GaussianMixture& mixture, const torch::Tensor& observed, const torch::Tensor& values);

// Component k alone, as a mixture of one.
GaussianMixture mixture_component(const GaussianMixture& mixture, int64_t k);

}  // namespace ddpm
