// The Fréchet distance and its matrix square root against closed forms (evaluation/frechet_distance.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ddpm/core/random.h"
#include "ddpm/evaluation/frechet_distance.h"

using namespace ddpm;

namespace {

// n points whose sample mean is exactly `mean` and sample covariance exactly A Aᵀ (up to rounding): white
// noise is centred and whitened by its own Cholesky factor, then mapped by A.
torch::Tensor points_with_moments(int64_t n, const torch::Tensor& mean, const torch::Tensor& a, at::Generator& gen) {
  const int64_t d = mean.size(0);
  auto z = torch::randn({n, d}, gen, torch::kFloat64);
  z = z - z.mean(0);
  auto cov = z.t().mm(z) / static_cast<double>(n - 1);
  auto l = torch::linalg_cholesky(cov);
  z = torch::linalg_solve_triangular(l, z.t(), /*upper=*/false).t();  // sample covariance I
  return z.mm(a.t()) + mean;
}

torch::Tensor random_orthogonal(int64_t d, at::Generator& gen) {
  return std::get<0>(torch::linalg_qr(torch::randn({d, d}, gen, torch::kFloat64)));
}

}  // namespace

TEST(EvalFrechet, StatisticsAreTheSampleMeanAndUnbiasedCovariance) {
  auto x = torch::tensor({{1.0, 2.0}, {3.0, 0.0}, {5.0, 4.0}}, torch::kFloat64);
  const auto s = feature_statistics(x);
  EXPECT_EQ(s.count, 3);
  EXPECT_TRUE(torch::allclose(s.mean, torch::tensor({3.0, 2.0}, torch::kFloat64)));
  // deviations (-2, 0), (0, -2), (2, 2): Σ = [[8, 4], [4, 8]] / 2
  EXPECT_TRUE(torch::allclose(s.covariance, torch::tensor({{4.0, 2.0}, {2.0, 4.0}}, torch::kFloat64)));
  EXPECT_THROW(feature_statistics(torch::zeros({1, 3})), std::invalid_argument);
}

TEST(EvalFrechet, ASetWithItselfIsZero) {
  auto gen = make_generator(1);
  const int64_t d = 32;
  auto a = torch::randn({d, d}, gen, torch::kFloat64);
  auto x = torch::randn({400, d}, gen, torch::kFloat64).mm(a) + 3.0;
  const auto s = feature_statistics(x);
  // Rounding only: the root of an eigenvalue λ of Σ^{1/2}ΣΣ^{1/2} = Σ² is off by ~ε λ_max / λ, so d² is exact to
  // ~ε·cond(Σ)·tr Σ; cond(Σ) ≈ 1e4 here (a Gaussian 32×32 factor, squared), hence 1e-9 relative (measured 1.5e-11).
  const double trace = s.covariance.trace().item<double>();
  EXPECT_NEAR(frechet_distance(s, s), 0.0, 1e-9 * trace);
  // Rank-deficient covariance (n < d) as well: 10 points in 32 dimensions.
  const auto few = feature_statistics(x.slice(0, 0, 10));
  EXPECT_NEAR(frechet_distance(few, few), 0.0, 1e-9 * few.covariance.trace().item<double>());
}

TEST(EvalFrechet, DiagonalGaussiansGiveTheClosedForm) {
  // Commuting covariances: d² = ‖μ₁ - μ₂‖² + Σ_i (√a_i - √b_i)².
  auto gen = make_generator(2);
  const int64_t d = 64;
  auto var_a = torch::rand({d}, gen, torch::kFloat64) * 4 + 0.01, var_b = torch::rand({d}, gen, torch::kFloat64) * 4 + 0.01;
  auto mu_a = torch::randn({d}, gen, torch::kFloat64), mu_b = torch::randn({d}, gen, torch::kFloat64);
  const auto sa = feature_statistics(points_with_moments(300, mu_a, torch::diag(var_a.sqrt()), gen));
  const auto sb = feature_statistics(points_with_moments(500, mu_b, torch::diag(var_b.sqrt()), gen));
  const double expected =
      (mu_a - mu_b).pow(2).sum().item<double>() + (var_a.sqrt() - var_b.sqrt()).pow(2).sum().item<double>();
  EXPECT_NEAR(frechet_distance(sa, sb), expected, 1e-9 * expected);
}

TEST(EvalFrechet, NonCommutingGaussiansGiveTheClosedForm) {
  // In 2-D, tr M^{1/2} = √(tr M + 2√det M) for PSD M, with M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}: tr M = tr Σ₁Σ₂ and
  // det M = det Σ₁ det Σ₂. Σ₂ is rotated so that the two covariances do not commute.
  auto gen = make_generator(3);
  auto s1 = torch::tensor({{2.0, 0.5}, {0.5, 1.0}}, torch::kFloat64);
  const double c = std::cos(0.7), s = std::sin(0.7);
  auto r = torch::tensor({{c, -s}, {s, c}}, torch::kFloat64);
  auto s2 = r.mm(torch::diag(torch::tensor({3.0, 0.2}, torch::kFloat64))).mm(r.t());
  auto mu1 = torch::tensor({0.0, 1.0}, torch::kFloat64), mu2 = torch::tensor({1.5, -0.5}, torch::kFloat64);
  const auto a = feature_statistics(points_with_moments(200, mu1, torch::linalg_cholesky(s1), gen));
  const auto b = feature_statistics(points_with_moments(200, mu2, torch::linalg_cholesky(s2), gen));
  const double tr_m = s1.mm(s2).trace().item<double>();
  const double det_m = torch::det(s1).item<double>() * torch::det(s2).item<double>();
  const double expected = (mu1 - mu2).pow(2).sum().item<double>() + s1.trace().item<double>() +
                          s2.trace().item<double>() - 2 * std::sqrt(tr_m + 2 * std::sqrt(det_m));
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-10);
  // In 1-D it is W2²: (μ₁ - μ₂)² + (σ₁ - σ₂)².
  const auto x = feature_statistics(points_with_moments(50, torch::tensor({1.0}, torch::kFloat64),
                                                        torch::tensor({{2.0}}, torch::kFloat64), gen));
  const auto y = feature_statistics(points_with_moments(70, torch::tensor({-1.0}, torch::kFloat64),
                                                        torch::tensor({{0.5}}, torch::kFloat64), gen));
  EXPECT_NEAR(frechet_distance(x, y), 4.0 + 1.5 * 1.5, 1e-12);
}

TEST(EvalFrechet, MatrixSqrtIsAccurateOnIllConditionedCovariances) {
  auto gen = make_generator(4);
  const int64_t d = 50;
  auto q = random_orthogonal(d, gen);
  auto lambda = torch::logspace(-14, 0, d, 10.0, torch::kFloat64);  // condition number 1e14
  auto a = q.mm(torch::diag(lambda)).mm(q.t());
  auto root = symmetric_sqrt(a);
  // A backward-stable eigendecomposition reproduces A to ~d·ε‖A‖ (d·ε ≈ 1e-14).
  EXPECT_LT((root.mm(root) - a).norm().item<double>() / a.norm().item<double>(), 1e-12);
  EXPECT_LT((root - root.t()).abs().max().item<double>(), 1e-15);
  // Against the true root Q √Λ Qᵀ: a rounding error δ ≈ ε‖A‖ moves √λ by δ / (2√λ) ≈ 1e-16 / 2e-7 at the
  // smallest λ = 1e-14, so ~1e-9 is the attainable accuracy; 1e-7 leaves margin.
  auto truth = q.mm(torch::diag(lambda.sqrt())).mm(q.t());
  EXPECT_LT((root - truth).norm().item<double>(), 1e-7);
  // Singular (and rounding-negative) eigenvalues are clamped, not turned into NaN.
  auto singular = q.slice(1, 0, 5);
  singular = singular.mm(singular.t());  // rank 5 of 50
  EXPECT_TRUE(symmetric_sqrt(singular).isfinite().all().item<bool>());
  EXPECT_LT((symmetric_sqrt(singular).mm(symmetric_sqrt(singular)) - singular).norm().item<double>(), 1e-12);
}

TEST(EvalFrechet, AgreesWithTheEigenvaluesOfTheCovarianceProductOnSingularSets) {
  // An independent route: tr (Σ₁Σ₂)^{1/2} = Σ √λ_i(Σ₁Σ₂), whose eigenvalues are real and ≥ 0 in exact arithmetic.
  auto gen = make_generator(5);
  const int64_t d = 40;
  const auto a = feature_statistics(torch::randn({30, d}, gen, torch::kFloat64));  // rank 29
  const auto b = feature_statistics(torch::randn({60, d}, gen, torch::kFloat64) * 0.5 + 0.1);
  auto eig = torch::real(torch::linalg_eigvals(a.covariance.mm(b.covariance))).clamp_min(0.0);
  const double expected = (a.mean - b.mean).pow(2).sum().item<double>() + a.covariance.trace().item<double>() +
                          b.covariance.trace().item<double>() - 2 * eig.sqrt().sum().item<double>();
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-8 * expected);
}
