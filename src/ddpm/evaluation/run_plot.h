// A training run's curves as one picture (`ddpm plot RUN`): from RUN/metrics.jsonl, the loss and its moving
// average, the loss by quarter of the t range (where in the chain the network is still weak), the learning
// rate and the gradient norm against the step, and the FID, precision and recall of a run that measures its
// samples (`--eval-every`).
#pragma once

#include <string>
#include <vector>

namespace ddpm {

// Reads `run_dir`'s metrics.jsonl and writes the PNG `out`. A missing log, a line that is not a metrics
// record, or a log with no record is an error naming the file (and the line).
void write_run_plot(const std::string& run_dir, const std::string& out);

// Several runs side by side (`ddpm plot RUN RUN ...`): the loss's moving average, and the FID, precision and
// recall of runs that measured them, against the training images seen (steps × batch, from each run's
// config.json), so that runs of different batch sizes compare at equal compute. Each run is named by its folder.
void write_runs_comparison(const std::vector<std::string>& run_dirs, const std::string& out);

}  // namespace ddpm
