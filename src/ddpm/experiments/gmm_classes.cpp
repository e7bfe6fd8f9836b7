#include "ddpm/experiments/gmm_classes.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "ddpm/core/guidance.h"
#include "ddpm/core/random.h"
#include "ddpm/evaluation/plots.h"
#include "ddpm/evaluation/point_distances.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {
namespace {

ClassSamples measure(const GaussianMixture& mixture, int64_t label, const torch::Tensor& samples,
                     const torch::Tensor& truth, int64_t projections, at::Generator& gen) {
  ClassSamples out;
  out.share = assign_components(mixture, samples).eq(label).to(torch::kDouble).mean().item<double>();
  const auto mean = samples.to(torch::kDouble).mean(0).contiguous();
  out.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  out.distance = sliced_wasserstein2(samples, truth, projections, gen);
  return out;
}

}  // namespace

std::vector<ClassGuidanceRow> run_class_guidance(const GaussianMixture& mixture, const Schedule& schedule,
                                                 const std::optional<ClassNoisePredictor>& learned,
                                                 const ClassGuidanceOptions& options) {
  const auto oracle = mixture_class_predictor(mixture, schedule);
  const int64_t K = mixture.components(), n = options.samples;
  SamplerSpec spec;
  spec.kind = "ddim";
  spec.steps = std::min(options.steps, schedule.T);
  std::vector<ClassGuidanceRow> rows;
  for (int64_t k = 0; k < K; ++k) {
    auto truth_gen = make_generator(derive_seed(options.seed, 100 + k));
    const auto truth = sample_points(mixture_component(mixture, k), n, truth_gen);
    for (const double w : options.guidance) {
      ClassGuidanceRow row;
      row.label = k;
      row.guidance = w;
      const auto labels = torch::full({n}, k, torch::kLong);
      // Both denoisers start from the same noise: their differences are the network's, not the draw's.
      const auto draw = [&](const ClassNoisePredictor& eps) {
        auto gen = make_generator(derive_seed(options.seed, 200 + k));
        const auto x_T = torch::randn({n, mixture.dim()}, gen);
        return run_sampler(schedule, class_guided_predictor(eps, labels, w, K), x_T, gen, spec);
      };
      // Both measured along the same random projections.
      const auto measured = [&](const torch::Tensor& samples) {
        auto gen = make_generator(derive_seed(options.seed, 300 + k));
        return measure(mixture, k, samples, truth, options.projections, gen);
      };
      row.oracle_samples = draw(oracle);
      row.oracle = measured(row.oracle_samples);
      if (learned) {
        row.learned_samples = draw(*learned);
        row.learned = measured(row.learned_samples);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

nlohmann::json to_json(const std::vector<ClassGuidanceRow>& rows) {
  auto samples_json = [](const ClassSamples& s) {
    return nlohmann::json{{"share_in_class", s.share}, {"mean", s.mean}, {"distance_to_class", s.distance}};
  };
  auto out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json j = {{"class", row.label}, {"guidance", row.guidance}, {"oracle", samples_json(row.oracle)}};
    if (row.learned) j["learned"] = samples_json(*row.learned);
    out.push_back(j);
  }
  return out;
}

std::string format_class_guidance(const std::vector<ClassGuidanceRow>& rows) {
  std::string out =
      "Classes (the mixture's components) with classifier-free guidance, DDIM: share of samples in the class's own\n"
      "component, their mean, and sliced W2 to the class's law (which only w = 0 targets)\n"
      "  class      w   oracle: share  mean               W2    | learned: share  mean               W2\n";
  auto cells = [](const ClassSamples& s) {
    std::string mean;
    for (size_t i = 0; i < s.mean.size() && i < 2; ++i) mean += fmt::format("{}{:+.3f}", i ? ", " : "", s.mean[i]);
    return fmt::format("{:6.3f}  ({:<16}) {:6.3f}", s.share, mean, s.distance);
  };
  for (const auto& row : rows)
    out += fmt::format("  {:5} {:6.2f}   {}{}\n", row.label, row.guidance, cells(row.oracle),
                       row.learned ? "  |        " + cells(*row.learned) : "");
  return out;
}

std::string write_class_guidance_figure(const std::vector<ClassGuidanceRow>& rows, const std::string& dir) {
  std::vector<double> weights;
  for (const auto& row : rows)
    if (std::find(weights.begin(), weights.end(), row.guidance) == weights.end()) weights.push_back(row.guidance);
  const bool learned = !rows.empty() && rows.front().learned.has_value();
  constexpr PlotColor kColors[] = {PlotColor::Blue, PlotColor::Orange, PlotColor::Green, PlotColor::Red,
                                   PlotColor::Purple, PlotColor::Brown, PlotColor::Gray, PlotColor::Black};
  constexpr int64_t kShown = 600;  // points per class and panel: enough to see the shape, few enough to see through
  Figure figure;
  figure.columns = static_cast<int>(weights.size());
  figure.width = 420 * figure.columns;
  figure.height = learned ? 840 : 440;
  for (const bool network : learned ? std::vector<bool>{false, true} : std::vector<bool>{false})
    for (const double w : weights) {
      PlotPanel panel(fmt::format("{}, w = {}", network ? "learned" : "exact denoiser", w), "x1", "x2");
      panel.equal_aspect = true;
      for (const auto& row : rows) {
        if (row.guidance != w) continue;
        const auto points = (network ? row.learned_samples : row.oracle_samples).slice(0, 0, kShown).to(torch::kDouble).contiguous();
        PlotSeries series;
        series.label = fmt::format("class {}", row.label);
        series.style = PlotSeries::Style::Points;
        series.color = kColors[row.label % 8];
        for (int64_t i = 0; i < points.size(0); ++i) {
          series.x.push_back(points[i][0].item<double>());
          series.y.push_back(points.size(1) > 1 ? points[i][1].item<double>() : 0.0);
        }
        panel.series.push_back(std::move(series));
      }
      figure.panels.push_back(std::move(panel));
    }
  const auto path = dir + "/classes.png";
  write_png(path, figure);
  return path;
}

}  // namespace ddpm
