#include "ddpm/evaluation/run_plot.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "ddpm/evaluation/plots.h"
#include "ddpm/io/input_file.h"
#include "ddpm/io/run_folder.h"

namespace ddpm {
namespace {

struct Curves {
  PlotSeries loss, average, lr, grad_norm;
  PlotSeries quarters[4];
  PlotSeries fid, floor, precision, recall;  // from --eval-every's records
};

// The value of a record's key, or NaN for null (a skipped step's loss).
double number(const nlohmann::json& record, const char* key) {
  const auto& v = record.at(key);
  return v.is_null() ? std::nan("") : v.get<double>();
}

Curves read_curves(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be opened", path));
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", path));
  Curves c;
  int64_t line_number = 0;
  // Whole lines only: a run training now may be half-way through writing its last one.
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = text.substr(start, end - start);
    ++line_number;
    if (line.empty()) continue;
    try {
      const auto record = nlohmann::json::parse(line);
      const double step = record.at("step").get<double>();
      if (record.contains("eval")) {
        const auto& e = record.at("eval");
        // A measurement that was not finite is logged as null: left out, as a skipped step's loss is.
        for (auto [series, key] : {std::pair{&c.fid, "fid"}, std::pair{&c.floor, "floor_fid"},
                                   std::pair{&c.precision, "precision"}, std::pair{&c.recall, "recall"}})
          if (const double v = number(e, key); std::isfinite(v)) series->x.push_back(step), series->y.push_back(v);
        continue;
      }
      const double loss = number(record, "loss");
      if (std::isfinite(loss)) c.loss.x.push_back(step), c.loss.y.push_back(loss);
      c.lr.x.push_back(step), c.lr.y.push_back(record.at("lr").get<double>());
      const double norm = number(record, "grad_norm");
      if (std::isfinite(norm)) c.grad_norm.x.push_back(step), c.grad_norm.y.push_back(norm);
      const auto& quarters = record.at("loss_by_t_quarter");
      for (size_t q = 0; q < 4; ++q)
        if (!quarters.at(q).is_null() && quarters.at(q).get<double>() > 0)
          c.quarters[q].x.push_back(step), c.quarters[q].y.push_back(quarters.at(q).get<double>());
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("{}: line {} is not a metrics record ({})", path, line_number, e.what()));
    }
  }
  if (c.lr.x.empty()) throw std::runtime_error(fmt::format("{}: no metrics records yet", path));
  // One logged batch's loss is noisy: an exponential moving average over ~10 records shows the trend, divided by
  // its weights' sum (as Adam corrects its moments) so that the first, largest losses fade as fast as any others.
  double sum = 0.0, weights = 0.0;
  for (size_t i = 0; i < c.loss.y.size(); ++i) {
    sum = 0.9 * sum + c.loss.y[i];
    weights = 0.9 * weights + 1.0;
    c.average.x.push_back(c.loss.x[i]), c.average.y.push_back(sum / weights);
  }
  return c;
}

// Training images per step of a run: batch × accumulate from its config.json.
double images_per_step(const std::string& run_dir) {
  const auto path = run_config_path(run_dir);
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  try {
    const auto config = nlohmann::json::parse(in);
    return config.at("batch").get<double>() * config.value("accumulate", 1.0);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a run's config ({})", path, e.what()));
  }
}

PlotSeries scaled(PlotSeries series, double x_scale, const std::string& label, PlotColor color) {
  for (auto& x : series.x) x *= x_scale;
  series.label = label;
  series.color = color;
  series.style = PlotSeries::Style::Line;
  return series;
}

}  // namespace

void write_runs_comparison(const std::vector<std::string>& run_dirs, const std::string& out) {
  constexpr PlotColor kColors[] = {PlotColor::Blue, PlotColor::Orange, PlotColor::Green, PlotColor::Red,
                                   PlotColor::Purple, PlotColor::Brown, PlotColor::Gray, PlotColor::Black};
  const std::string x = "training images seen (thousands)";
  PlotPanel loss("training loss, moving average (the weighted objective of min-SNR runs)", x, "loss"), fid("FID of the EMA samples", x, "FID"),
      precision("precision", x, ""), recall("recall", x, "");
  loss.log_y = true;  // FID stays linear: runs compared late in training differ by less than a decade, which a log axis leaves unlabelled
  bool measured = false;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    const auto c = read_curves(metrics_path(run_dirs[i]));
    const double scale = images_per_step(run_dirs[i]) / 1000.0;
    auto name = std::filesystem::path(run_dirs[i]).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::path(run_dirs[i]).lexically_normal().parent_path().filename().string();
    const auto color = kColors[i % 8];
    loss.series.push_back(scaled(c.average, scale, name, color));
    if (c.fid.x.empty()) continue;
    measured = true;
    fid.series.push_back(scaled(c.fid, scale, name, color));
    precision.series.push_back(scaled(c.precision, scale, name, color));
    recall.series.push_back(scaled(c.recall, scale, name, color));
  }
  Figure figure;
  figure.columns = 2;
  figure.width = 1200;
  figure.height = measured ? 900 : 500;
  figure.panels = {loss};
  if (measured) {
    figure.panels.insert(figure.panels.end(), {fid, precision, recall});
  } else {
    figure.columns = 1;
  }
  write_png(out, figure);
}

void write_run_plot(const std::string& run_dir, const std::string& out) {
  auto c = read_curves(metrics_path(run_dir));
  c.loss.label = "loss (logged batches)", c.loss.style = PlotSeries::Style::Markers, c.loss.color = PlotColor::Gray;
  c.average.label = "moving average", c.average.color = PlotColor::Blue;
  const PlotColor colors[4] = {PlotColor::Red, PlotColor::Orange, PlotColor::Green, PlotColor::Blue};
  const char* ranges[4] = {"t in 1st quarter (least noise)", "2nd", "3rd", "4th (most noise)"};
  for (int q = 0; q < 4; ++q) c.quarters[q].label = ranges[q], c.quarters[q].color = colors[q];
  c.lr.color = PlotColor::Black;
  c.grad_norm.color = PlotColor::Purple, c.grad_norm.style = PlotSeries::Style::Markers;

  Figure figure;
  figure.columns = 2;
  figure.width = 1200, figure.height = 900;
  PlotPanel loss("L_simple", "step", "loss", {c.loss, c.average});
  PlotPanel quarters("loss by quarter of the t range", "step", "loss", {c.quarters[0], c.quarters[1], c.quarters[2], c.quarters[3]});
  quarters.log_y = true;
  PlotPanel lr("learning rate", "step", "lr", {c.lr});
  PlotPanel norm("gradient norm (before clipping)", "step", "norm", {c.grad_norm});
  figure.panels = {loss, quarters, lr, norm};
  if (!c.fid.x.empty() && !c.precision.x.empty()) {  // the run measured its samples: their quality below
    c.fid.label = "EMA samples", c.fid.style = PlotSeries::Style::LinePoints, c.fid.color = PlotColor::Blue;
    c.floor.label = "real images (floor)", c.floor.color = PlotColor::Gray;
    c.precision.label = "precision", c.precision.style = PlotSeries::Style::LinePoints, c.precision.color = PlotColor::Green;
    c.recall.label = "recall", c.recall.style = PlotSeries::Style::LinePoints, c.recall.color = PlotColor::Orange;
    PlotPanel fid("FID of the EMA samples", "step", "FID", {c.fid, c.floor});
    fid.log_y = true;
    PlotPanel pr("precision and recall", "step", "", {c.precision, c.recall});
    const double first = c.precision.x.front(), last = std::max(c.precision.x.back(), first + 1);
    pr.limits = std::array<double, 4>{first, last, 0.0, 1.0};
    figure.panels.push_back(fid);
    figure.panels.push_back(pr);
    figure.height = 1300;
  }
  write_png(out, figure);
}

}  // namespace ddpm
