#include "ddpm/experiments/gmm_inpainting.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

#include "ddpm/core/random.h"
#include "ddpm/editing/inpaint.h"
#include "ddpm/evaluation/plots.h"

namespace ddpm {
namespace {

// The exact conditional's x_1 as a 1-D mixture: weights, means, standard deviations.
struct FirstCoordinate {
  std::vector<double> w, m, s;
  double cdf(double x) const {
    double f = 0.0;
    for (size_t k = 0; k < w.size(); ++k) f += w[k] * 0.5 * std::erfc(-(x - m[k]) / (s[k] * std::sqrt(2.0)));
    return f;
  }
  double density(double x) const {
    double p = 0.0;
    for (size_t k = 0; k < w.size(); ++k)
      p += w[k] * std::exp(-0.5 * std::pow((x - m[k]) / s[k], 2)) / (s[k] * std::sqrt(2.0 * M_PI));
    return p;
  }
};

FirstCoordinate first_coordinate(const GaussianMixture& m) {
  FirstCoordinate out;
  for (int64_t k = 0; k < m.components(); ++k) {
    out.w.push_back(m.weights[k]);
    out.m.push_back(m.means[k][0].item<double>());
    out.s.push_back(std::sqrt(m.covariances[k][0][0].item<double>()));
  }
  return out;
}

InpaintedCoordinate measure(const torch::Tensor& x1, const FirstCoordinate& exact) {
  InpaintedCoordinate out;
  out.mean = x1.mean().item<double>();
  out.std = x1.std().item<double>();
  const auto sorted = std::get<0>(x1.sort()).contiguous();
  const auto* v = sorted.data_ptr<double>();
  const auto n = static_cast<double>(sorted.numel());
  for (int64_t i = 0; i < sorted.numel(); ++i) {
    const double f = exact.cdf(v[i]);
    out.ks = std::max({out.ks, std::abs((i + 1) / n - f), std::abs(i / n - f)});
  }
  return out;
}

}  // namespace

MixtureInpainting run_mixture_inpainting(const GaussianMixture& mixture, const Schedule& schedule,
                                         const std::optional<NoisePredictor>& learned, const MixtureInpaintingOptions& options) {
  const int64_t d = mixture.dim(), n = options.samples;
  if (d < 2) throw std::invalid_argument("inpainting a mixture needs points of at least 2 dimensions");
  MixtureInpainting result;
  result.given = mixture.means[0][d - 1].item<double>();
  auto observed = torch::zeros({d}, torch::kBool);
  observed[d - 1] = true;
  auto values = torch::zeros({d}, torch::kFloat64);
  values[d - 1] = result.given;
  result.exact = condition_mixture(mixture, observed, values);
  const auto exact = first_coordinate(result.exact);
  double second = 0.0;
  for (size_t k = 0; k < exact.w.size(); ++k) {
    result.exact_mean += exact.w[k] * exact.m[k];
    second += exact.w[k] * (exact.s[k] * exact.s[k] + exact.m[k] * exact.m[k]);
  }
  result.exact_std = std::sqrt(second - result.exact_mean * result.exact_mean);
  result.ks_critical = 1.63 / std::sqrt(static_cast<double>(n));
  const auto known = values.to(torch::kFloat32).repeat({n, 1});
  const auto keep = observed.to(torch::kFloat32);
  InpaintOptions inpaint_options;
  inpaint_options.sampler.steps = std::min(options.steps, schedule.T);
  inpaint_options.jump_length = options.jump_length;
  inpaint_options.jump_n_sample = options.jump_n_sample;
  // Both denoisers start from the same noise and draw the same z: their differences are the network's.
  const auto fill = [&](const NoisePredictor& eps) {
    auto gen = make_generator(derive_seed(options.seed, 400));
    const auto x_T = torch::randn({n, d}, gen);
    return inpaint(schedule, eps, known, keep, x_T, gen, inpaint_options).select(1, 0).to(torch::kFloat64);
  };
  result.oracle_x1 = fill(mixture_noise_predictor(mixture, schedule));
  result.oracle = measure(result.oracle_x1, exact);
  if (learned) {
    result.learned_x1 = fill(*learned);
    result.learned = measure(result.learned_x1, exact);
  }
  return result;
}

nlohmann::json to_json(const MixtureInpainting& r) {
  auto coordinate = [](const InpaintedCoordinate& c) { return nlohmann::json{{"mean", c.mean}, {"std", c.std}, {"ks", c.ks}}; };
  nlohmann::json j = {{"given_last_coordinate", r.given},
                      {"exact", {{"mean", r.exact_mean}, {"std", r.exact_std}, {"weights", r.exact.weights}}},
                      {"ks_critical_1pct", r.ks_critical},
                      {"oracle", coordinate(r.oracle)}};
  if (r.learned) j["learned"] = coordinate(*r.learned);
  return j;
}

std::string format_mixture_inpainting(const MixtureInpainting& r) {
  std::string out = fmt::format(
      "Inpainting (RePaint) x1 given x{} = {:.3f}: mean and std of x1, KS distance to the exact conditional\n"
      "(true samples exceed {:.3f} 1 % of the time)\n"
      "  exact            mean {:+.3f}  std {:.3f}\n",
      r.exact.dim() + 1, r.given, r.ks_critical, r.exact_mean, r.exact_std);
  auto row = [](const char* who, const InpaintedCoordinate& c) {
    return fmt::format("  {:<16} mean {:+.3f}  std {:.3f}  KS {:.3f}\n", who, c.mean, c.std, c.ks);
  };
  out += row("exact denoiser", r.oracle);
  if (r.learned) out += row("learned", *r.learned);
  return out;
}

std::string write_inpainting_figure(const MixtureInpainting& r, const std::string& dir) {
  const auto exact = first_coordinate(r.exact);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < exact.w.size(); ++k)
    if (exact.w[k] > 1e-4) {
      lo = std::min(lo, exact.m[k] - 4 * exact.s[k]);
      hi = std::max(hi, exact.m[k] + 4 * exact.s[k]);
    }
  constexpr int kBins = 60;
  const double width = (hi - lo) / kBins;
  // A histogram as a density: a step line over the bins.
  auto histogram = [&](const torch::Tensor& x1, const std::string& label, PlotColor color) {
    std::vector<double> counts(kBins, 0.0);
    const auto v = x1.contiguous();
    for (int64_t i = 0; i < v.numel(); ++i) {
      const auto bin = static_cast<int64_t>(std::floor((v.data_ptr<double>()[i] - lo) / width));
      if (bin >= 0 && bin < kBins) counts[bin] += 1.0;
    }
    PlotSeries s;
    s.label = label;
    s.color = color;
    for (int b = 0; b < kBins; ++b) {
      const double p = counts[b] / (static_cast<double>(v.numel()) * width);
      s.x.insert(s.x.end(), {lo + b * width, lo + (b + 1) * width});
      s.y.insert(s.y.end(), {p, p});
    }
    return s;
  };
  PlotSeries curve;
  const int64_t given = r.exact.dim() + 1;  // the coordinate kept
  curve.label = fmt::format("exact q(x1 | x{})", given);
  curve.color = PlotColor::Black;
  for (int i = 0; i <= 400; ++i) {
    const double x = lo + (hi - lo) * i / 400.0;
    curve.x.push_back(x);
    curve.y.push_back(exact.density(x));
  }
  PlotPanel panel(fmt::format("RePaint: x1 given x{} = {:.2f}", given, r.given), "x1", "density");
  panel.series.push_back(histogram(r.oracle_x1, "RePaint, exact denoiser", PlotColor::Blue));
  if (r.learned) panel.series.push_back(histogram(r.learned_x1, "RePaint, learned MLP", PlotColor::Orange));
  panel.series.push_back(std::move(curve));
  Figure figure;
  figure.panels.push_back(std::move(panel));
  figure.width = 800;
  figure.height = 520;
  const auto path = dir + "/inpainting.png";
  write_png(path, figure);
  return path;
}

}  // namespace ddpm
