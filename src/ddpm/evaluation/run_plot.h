// A training run's curves as one picture (`ddpm plot RUN`): from RUN/metrics.jsonl, the loss and its moving
// average, the loss by quarter of the t range (where in the chain the network is still weak), the learning
// rate and the gradient norm against the step, and the FID, precision and recall of a run that measures its
// samples (`--eval-every`).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ddpm {

// What the curves are drawn against: the step; the training images seen (steps × batch × accumulate, from the
// run's config.json), which compares runs of different batch sizes; or the clocks metrics.jsonl logs, CPU time
// (core-hours of the training process) and wall-clock time (hours), which compare runs at equal compute.
enum class PlotAxis { Step, Images, CpuTime, WallTime };

// The axes by the names flags use: step, images, cpu, wall.
const std::map<std::string, PlotAxis>& plot_axes();

// Reads `run_dir`'s metrics.jsonl and writes the PNG `out`. A missing log, a line that is not a metrics
// record, a record without the clock `x` needs (a log from before ddpm kept them), or a log with no record is
// an error naming the file (and the line).
void write_run_plot(const std::string& run_dir, const std::string& out, PlotAxis x = PlotAxis::Step);

// Several runs side by side (`ddpm plot RUN RUN ...`): the loss's moving average, and the FID, precision and
// recall of runs that measured them, by default against the training images seen, so that runs of different
// batch sizes compare at equal data. Each run is named by its folder.
void write_runs_comparison(const std::vector<std::string>& run_dirs, const std::string& out,
                           PlotAxis x = PlotAxis::Images);

}  // namespace ddpm
