// Figures as PNG through PLplot's cairo driver: panels of scatter points and lines (optionally on log
// axes), over an optional shaded scalar field and an optional arrow field. Experiments describe a figure
// with these plain structs; only plots.cpp knows PLplot.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace ddpm {

enum class PlotColor { Black = 1, Blue, Orange, Green, Red, Purple, Gray, Brown };

struct PlotSeries {
  std::string label;  // legend entry; empty: none
  std::vector<double> x, y;
  enum class Style { Points, Markers, Line, LinePoints } style = Style::Line;  // Points: dots; Markers: circles
  PlotColor color = PlotColor::Blue;
};

// Values on a regular grid: value[i * ys.size() + j] belongs to (xs[i], ys[j]).
struct GridField {
  std::vector<double> xs, ys;
  std::vector<double> u, v;  // arrows (u, v); for a shaded field only u is used
};

struct PlotPanel {
  PlotPanel() = default;
  PlotPanel(std::string title_, std::string xlabel_, std::string ylabel_, std::vector<PlotSeries> series_ = {})
      : title(std::move(title_)), xlabel(std::move(xlabel_)), ylabel(std::move(ylabel_)), series(std::move(series_)) {}

  std::string title, xlabel, ylabel;
  std::vector<PlotSeries> series;
  std::optional<std::array<double, 4>> limits;  // x_min, x_max, y_min, y_max in axis units (log10 on a log axis)
  bool log_x = false, log_y = false;
  bool equal_aspect = false;
  std::optional<GridField> shade;   // drawn first, white (low) to blue (high)
  std::optional<GridField> arrows;  // drawn over the shade
};

struct Figure {
  std::vector<PlotPanel> panels;
  int columns = 1;
  int width = 900, height = 700;  // pixels
};

// Throws std::runtime_error if the file cannot be written.
void write_png(const std::string& path, const Figure& figure);

}  // namespace ddpm
