// PLplot rendering of Figure: one pngcairo stream per file, one subpage per panel.
#include "ddpm/evaluation/plots.h"

#include <plplot.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "ddpm/io/atomic_file.h"

namespace ddpm {
namespace {

// A PNG file ends with its IEND chunk; cairo does not report a write that failed half way.
bool ends_like_png(const std::string& bytes) {
  static const std::string iend("\0\0\0\0IEND\xAE\x42\x60\x82", 12);
  return bytes.size() > iend.size() && bytes.compare(bytes.size() - iend.size(), iend.size(), iend) == 0;
}

struct ScratchFile {
  std::string path;  // removed when done, whatever happened
  ~ScratchFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

void set_palette() {
  // 0 is the background; the rest follow PlotColor.
  const int rgb[][3] = {{255, 255, 255}, {0, 0, 0},     {31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                        {214, 39, 40},   {148, 103, 189}, {127, 127, 127}, {140, 86, 75}};
  plscmap0n(9);
  for (int i = 0; i < 9; ++i) plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
  // cmap1 for shaded fields: white to a light blue.
  PLFLT pos[] = {0.0, 1.0}, r[] = {1.0, 0.55}, g[] = {1.0, 0.7}, b[] = {1.0, 0.95};
  plscmap1l(1, 2, pos, r, g, b, nullptr);
}

std::vector<double> maybe_log(const std::vector<double>& v, bool log) {
  if (!log) return v;
  std::vector<double> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](double a) { return std::log10(std::max(a, 1e-300)); });
  return out;
}

std::array<double, 4> data_limits(const PlotPanel& p) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : p.series) {
    for (double v : maybe_log(s.x, p.log_x)) x0 = std::min(x0, v), x1 = std::max(x1, v);
    for (double v : maybe_log(s.y, p.log_y)) y0 = std::min(y0, v), y1 = std::max(y1, v);
  }
  if (!std::isfinite(x0) || !std::isfinite(x1)) x0 = 0, x1 = 1;  // no data (yet): an empty frame, not an infinite one
  if (!std::isfinite(y0) || !std::isfinite(y1)) y0 = 0, y1 = 1;
  if (!(x0 < x1)) x0 -= 1, x1 += 1;
  if (!(y0 < y1)) y0 -= 1, y1 += 1;
  const double mx = 0.05 * (x1 - x0), my = 0.08 * (y1 - y0);
  // Headroom for a top-right legend, so that it does not hide the data.
  const auto entries = std::count_if(p.series.begin(), p.series.end(), [](const PlotSeries& s) { return !s.label.empty(); });
  const double top = 0.08 * (y1 - y0) * static_cast<double>(entries);
  return {x0 - mx, x1 + mx, y0 - my, y1 + std::max(my, top)};
}

// PLplot takes matrices as arrays of row pointers.
struct Matrix {
  std::vector<double> data;
  std::vector<const double*> rows;
  Matrix(const std::vector<double>& values, std::size_t nx, std::size_t ny) : data(values) {
    for (std::size_t i = 0; i < nx; ++i) rows.push_back(data.data() + i * ny);
  }
};

void draw_shade(const GridField& f) {
  const auto nx = f.xs.size(), ny = f.ys.size();
  Matrix m(f.u, nx, ny);
  const auto [lo, hi] = std::minmax_element(f.u.begin(), f.u.end());
  plimage(m.rows.data(), nx, ny, f.xs.front(), f.xs.back(), f.ys.front(), f.ys.back(), *lo, *hi, f.xs.front(),
          f.xs.back(), f.ys.front(), f.ys.back());
}

void draw_arrows(const GridField& f) {
  const auto nx = f.xs.size(), ny = f.ys.size();
  Matrix u(f.u, nx, ny), v(f.v, nx, ny);
  std::vector<double> xg = f.xs, yg = f.ys;
  PLcGrid grid{xg.data(), yg.data(), nullptr, static_cast<PLINT>(nx), static_cast<PLINT>(ny), 0};
  plcol0(static_cast<int>(PlotColor::Black));
  plvect(u.rows.data(), v.rows.data(), nx, ny, 0.0, pltr1, &grid);  // scale 0: longest arrow fits a cell
}

void draw_legend(const PlotPanel& p) {
  std::vector<const PlotSeries*> entries;
  for (const auto& s : p.series)
    if (!s.label.empty()) entries.push_back(&s);
  if (entries.empty()) return;
  const int n = static_cast<int>(entries.size());
  std::vector<PLINT> opts(n), colors(n), styles(n, 1), numbers(n, 3);
  std::vector<PLFLT> widths(n, 2.0), scales(n, 1.0);
  std::vector<const char*> text(n), symbols(n, "o");
  for (int i = 0; i < n; ++i) {
    const auto& s = *entries[i];
    const bool dots = s.style == PlotSeries::Style::Points;
    if (dots) symbols[i] = "#(229)";
    opts[i] = dots || s.style == PlotSeries::Style::Markers ? PL_LEGEND_SYMBOL
              : s.style == PlotSeries::Style::Line          ? PL_LEGEND_LINE
                                                            : (PL_LEGEND_LINE | PL_LEGEND_SYMBOL);
    colors[i] = static_cast<PLINT>(s.color);
    text[i] = s.label.c_str();
  }
  PLFLT w = 0, h = 0;
  pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE,
           0.01, 0.01, 0.08, 0, 1, 1, 0, 0, n, opts.data(), 0.6, 0.7, 1.8, 0.0, colors.data(), text.data(), nullptr,
           nullptr, nullptr, nullptr, colors.data(), styles.data(), widths.data(), colors.data(), scales.data(),
           numbers.data(), symbols.data());
}

void draw_panel(const PlotPanel& p) {
  const auto lim = p.limits ? *p.limits : data_limits(p);
  plcol0(static_cast<int>(PlotColor::Black));
  const int axis = (p.log_x ? 10 : 0) + (p.log_y ? 20 : 0);
  plenv(lim[0], lim[1], lim[2], lim[3], p.equal_aspect ? 1 : 0, axis);
  if (p.shade) {
    draw_shade(*p.shade);
    plcol0(static_cast<int>(PlotColor::Black));
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);  // the image covers the frame; redraw it
  }
  if (p.arrows) draw_arrows(*p.arrows);
  for (const auto& s : p.series) {
    if (s.x.size() != s.y.size()) throw std::invalid_argument("plot series '" + s.label + "': x and y differ in length");
    const auto x = maybe_log(s.x, p.log_x), y = maybe_log(s.y, p.log_y);
    plcol0(static_cast<int>(s.color));
    const int n = static_cast<int>(x.size());
    if (s.style == PlotSeries::Style::Line || s.style == PlotSeries::Style::LinePoints) {
      plwidth(2.0);
      plline(n, x.data(), y.data());
      plwidth(1.0);
    }
    if (s.style == PlotSeries::Style::Points) plstring(n, x.data(), y.data(), "#(229)");
    if (s.style == PlotSeries::Style::LinePoints || s.style == PlotSeries::Style::Markers) {
      plssym(0.0, 0.7);
      plpoin(n, x.data(), y.data(), 4);  // Hershey circle
    }
  }
  plcol0(static_cast<int>(PlotColor::Black));
  pllab(p.xlabel.c_str(), p.ylabel.c_str(), p.title.c_str());
  draw_legend(p);
}

}  // namespace

void write_png(const std::string& path, const Figure& figure) {
  if (figure.panels.empty()) throw std::invalid_argument("figure '" + path + "' has no panels");
  // PLplot writes where it is told and reports nothing, so it draws into a scratch file beside the figure,
  // which is checked and then written atomically like every other output.
  const std::filesystem::path target(path);
  ScratchFile scratch{
      ((target.has_parent_path() ? target.parent_path() : ".") / ("." + target.filename().string() + ".plot.XXXXXX")).string()};
  const int fd = ::mkstemp(scratch.path.data());
  if (fd < 0) {
    scratch.path.clear();
    throw std::runtime_error(fmt::format("cannot write figure '{}': {}", path, std::strerror(errno)));
  }
  ::close(fd);
  const int columns = std::max(1, figure.columns);
  const int rows = (static_cast<int>(figure.panels.size()) + columns - 1) / columns;
  plsstrm(0);
  plsdev("pngcairo");
  plsfnam(scratch.path.c_str());
  plsetopt("geometry", fmt::format("{}x{}", figure.width, figure.height).c_str());
  set_palette();
  plssub(columns, rows);
  plinit();
  plschr(0.0, 0.8);
  for (const auto& panel : figure.panels) draw_panel(panel);
  plend();
  const std::string bytes = read_file_bytes(scratch.path);
  if (!ends_like_png(bytes)) throw std::runtime_error(fmt::format("cannot write figure '{}': the drawing was cut short (disk full?)", path));
  write_file_atomically(path, bytes);
}

}  // namespace ddpm
