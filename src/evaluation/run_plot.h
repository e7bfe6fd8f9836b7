// A training run's curves as one picture (`ddpm plot RUN`): from RUN/metrics.jsonl, the loss and its moving
// average, the loss by quarter of the t range (where in the chain the network is still weak), the learning
// rate and the gradient norm against the step, and the FID, precision and recall of a run that measures its
// samples (`--eval-every`).
#pragma once

#include <string>

namespace ddpm {

// Reads `run_dir`'s metrics.jsonl and writes the PNG `out`. A missing log, a line that is not a metrics
// record, or a log with no record is an error naming the file (and the line).
void write_run_plot(const std::string& run_dir, const std::string& out);

}  // namespace ddpm
