// `ddpm plot RUN`: a run's training curves (metrics.jsonl) as one PNG, by default RUN/metrics.png; `ddpm plot RUN
// RUN ... --out FILE`: several runs compared.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ddpm/evaluation/run_plot.h"
#include "ddpm/io/input_file.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/run_folder.h"

namespace ddpm::cli {
namespace {

struct PlotFlags {
  std::vector<std::string> runs;
  std::string out;
  std::string x;  // empty: step for one run, images for several
  bool force = false;
};

void run(const PlotFlags& f) {
  std::vector<std::string> reads;
  for (const auto& run : f.runs) {
    require_regular_file(metrics_path(run));  // the inputs first: a missing run is named as such
    reads.push_back(metrics_path(run));
  }
  const auto x = f.x.empty() ? (f.runs.size() > 1 ? PlotAxis::Images : PlotAxis::Step) : plot_axes().at(f.x);
  if (x == PlotAxis::Images)
    for (const auto& run : f.runs) reads.push_back(run_config_path(run));
  if (f.runs.size() > 1) {
    if (f.out.empty()) throw CLI::ValidationError("--out", "is needed to compare several runs");
    check_output_files({{f.out, {".png"}}}, {reads, f.force});
    write_runs_comparison(f.runs, f.out, x);
    fmt::print("wrote {}\n", f.out);
    return;
  }
  const auto out = f.out.empty() ? f.runs[0] + "/metrics.png" : f.out;
  check_output_files({{out, {".png"}}}, {reads, f.force || f.out.empty()});
  write_run_plot(f.runs[0], out, x);
  fmt::print("wrote {}\n", out);
}

}  // namespace

Subcommand add_plot(CLI::App& parent) {
  auto* app = parent.add_subcommand("plot", "draw a run's training curves: loss, loss by quarter of t, learning rate, gradient "
                                            "norm; or compare several runs' loss and FID");
  auto f = std::make_shared<PlotFlags>();
  app->add_option("run", f->runs, "run folder (its metrics.jsonl); several: their curves side by side")->required();
  app->add_option("--out", f->out, "the .png to write (one run: default RUN/metrics.png, replaced each time; several: required)");
  std::vector<std::string> axes;
  for (const auto& [name, axis] : plot_axes()) axes.push_back(name);
  app->add_option("--x", f->x, "what the curves are drawn against: step (one run's default) | images (training images "
                               "seen; several runs' default) | cpu (CPU core-hours) | wall (wall-clock hours)")
      ->check(CLI::IsMember(axes));
  app->add_flag("--force", f->force, "replace an existing --out file");
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
