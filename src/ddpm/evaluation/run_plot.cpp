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

// The x axes: a record's x is record[key] × scale, × the run's images per step where `per_image`.
struct AxisSpec {
  PlotAxis axis;
  const char* name;  // of the flag value
  const char* key;
  double scale;
  bool per_image;
  const char* label;
};
constexpr AxisSpec kAxes[] = {
    {PlotAxis::Step, "step", "step", 1.0, false, "step"},
    {PlotAxis::Images, "images", "step", 1e-3, true, "training images seen (thousands)"},
    {PlotAxis::CpuTime, "cpu", "cpu_s", 1.0 / 3600, false, "CPU time (core-hours)"},
    {PlotAxis::WallTime, "wall", "wall_s", 1.0 / 3600, false, "wall-clock time (hours)"},
};

const AxisSpec& axis_spec(PlotAxis axis) {
  for (const auto& spec : kAxes)
    if (spec.axis == axis) return spec;
  throw std::logic_error("plot axis without an entry in kAxes");
}

// Every record's x is record[x_key] × scale.
Curves read_curves(const std::string& path, const char* x_key, double scale) {
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
      if (!record.contains(x_key))
        throw std::runtime_error(fmt::format("{}: line {} has no \"{}\": the run was logged by a ddpm that did not "
                                             "keep its clocks; plot it against step or images", path, line_number, x_key));
      const double x = record.at(x_key).get<double>() * scale;
      if (record.contains("eval")) {
        const auto& e = record.at("eval");
        // A measurement that was not finite is logged as null: left out, as a skipped step's loss is.
        for (auto [series, key] : {std::pair{&c.fid, "fid"}, std::pair{&c.floor, "floor_fid"},
                                   std::pair{&c.precision, "precision"}, std::pair{&c.recall, "recall"}})
          if (const double v = number(e, key); std::isfinite(v)) series->x.push_back(x), series->y.push_back(v);
        continue;
      }
      const double loss = number(record, "loss");
      if (std::isfinite(loss)) c.loss.x.push_back(x), c.loss.y.push_back(loss);
      c.lr.x.push_back(x), c.lr.y.push_back(record.at("lr").get<double>());
      const double norm = number(record, "grad_norm");
      if (std::isfinite(norm)) c.grad_norm.x.push_back(x), c.grad_norm.y.push_back(norm);
      const auto& quarters = record.at("loss_by_t_quarter");
      for (size_t q = 0; q < 4; ++q)
        if (!quarters.at(q).is_null() && quarters.at(q).get<double>() > 0)
          c.quarters[q].x.push_back(x), c.quarters[q].y.push_back(quarters.at(q).get<double>());
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

Curves read_run_curves(const std::string& run_dir, PlotAxis x) {
  const auto& spec = axis_spec(x);
  return read_curves(metrics_path(run_dir), spec.key, spec.per_image ? spec.scale * images_per_step(run_dir) : spec.scale);
}

PlotSeries labelled(PlotSeries series, const std::string& label, PlotColor color) {
  series.label = label;
  series.color = color;
  series.style = PlotSeries::Style::Line;
  return series;
}

}  // namespace

const std::map<std::string, PlotAxis>& plot_axes() {
  static const auto axes = [] {
    std::map<std::string, PlotAxis> by_name;
    for (const auto& spec : kAxes) by_name.emplace(spec.name, spec.axis);
    return by_name;
  }();
  return axes;
}

void write_runs_comparison(const std::vector<std::string>& run_dirs, const std::string& out, PlotAxis x_axis) {
  constexpr PlotColor kColors[] = {PlotColor::Blue, PlotColor::Orange, PlotColor::Green, PlotColor::Red,
                                   PlotColor::Purple, PlotColor::Brown, PlotColor::Gray, PlotColor::Black};
  const std::string x = axis_spec(x_axis).label;
  PlotPanel loss("training loss, moving average (the weighted objective of min-SNR runs)", x, "loss"), fid("FID of the EMA samples", x, "FID"),
      precision("precision", x, ""), recall("recall", x, "");
  loss.log_y = true;  // FID stays linear: runs compared late in training differ by less than a decade, which a log axis leaves unlabelled
  bool measured = false;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    const auto c = read_run_curves(run_dirs[i], x_axis);
    auto name = std::filesystem::path(run_dirs[i]).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::path(run_dirs[i]).lexically_normal().parent_path().filename().string();
    const auto color = kColors[i % 8];
    loss.series.push_back(labelled(c.average, name, color));
    if (c.fid.x.empty()) continue;
    measured = true;
    fid.series.push_back(labelled(c.fid, name, color));
    precision.series.push_back(labelled(c.precision, name, color));
    recall.series.push_back(labelled(c.recall, name, color));
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

void write_run_plot(const std::string& run_dir, const std::string& out, PlotAxis x_axis) {
  auto c = read_run_curves(run_dir, x_axis);
  const std::string x = axis_spec(x_axis).label;
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
  PlotPanel loss("L_simple", x, "loss", {c.loss, c.average});
  PlotPanel quarters("loss by quarter of the t range", x, "loss", {c.quarters[0], c.quarters[1], c.quarters[2], c.quarters[3]});
  quarters.log_y = true;
  PlotPanel lr("learning rate", x, "lr", {c.lr});
  PlotPanel norm("gradient norm (before clipping)", x, "norm", {c.grad_norm});
  figure.panels = {loss, quarters, lr, norm};
  if (!c.fid.x.empty() && !c.precision.x.empty()) {  // the run measured its samples: their quality below
    c.fid.label = "EMA samples", c.fid.style = PlotSeries::Style::LinePoints, c.fid.color = PlotColor::Blue;
    c.floor.label = "real images (floor)", c.floor.color = PlotColor::Gray;
    c.precision.label = "precision", c.precision.style = PlotSeries::Style::LinePoints, c.precision.color = PlotColor::Green;
    c.recall.label = "recall", c.recall.style = PlotSeries::Style::LinePoints, c.recall.color = PlotColor::Orange;
    PlotPanel fid("FID of the EMA samples", x, "FID", {c.fid, c.floor});
    fid.log_y = true;
    PlotPanel pr("precision and recall", x, "", {c.precision, c.recall});
    const double first = c.precision.x.front(), last = std::max(c.precision.x.back(), first + 1);
    pr.limits = std::array<double, 4>{first, last, 0.0, 1.0};
    figure.panels.push_back(fid);
    figure.panels.push_back(pr);
    figure.height = 1300;
  }
  write_png(out, figure);
}

}  // namespace ddpm
