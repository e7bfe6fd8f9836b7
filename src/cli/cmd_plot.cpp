// `ddpm plot RUN`: a run's training curves (metrics.jsonl) as one PNG, by default RUN/metrics.png.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "evaluation/run_plot.h"
#include "io/input_file.h"
#include "io/output_path.h"
#include "io/run_folder.h"

namespace ddpm::cli {
namespace {

struct PlotFlags {
  std::string run, out;
  bool force = false;
};

void run(const PlotFlags& f) {
  require_regular_file(metrics_path(f.run));  // the input first: a missing run is named as such
  const auto out = f.out.empty() ? f.run + "/metrics.png" : f.out;
  check_output_files({{out, {".png"}}}, {{metrics_path(f.run)}, f.force || f.out.empty()});
  write_run_plot(f.run, out);
  fmt::print("wrote {}\n", out);
}

}  // namespace

Subcommand add_plot(CLI::App& parent) {
  auto* app = parent.add_subcommand("plot", "draw a run's training curves: loss, loss by quarter of t, learning rate, gradient norm");
  auto f = std::make_shared<PlotFlags>();
  app->add_option("run", f->run, "run folder (its metrics.jsonl)")->required();
  app->add_option("--out", f->out, "the .png to write (default: RUN/metrics.png, replaced each time)");
  app->add_flag("--force", f->force, "replace an existing --out file");
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
