// The pictures of `ddpm gmm` (the lecture notes' Parts 2, 5 and 7): the forward process at several t, the ε* field,
// samples against the truth, sampling trajectories, and the discretization / initialization / Langevin plots.
#pragma once

#include <string>
#include <vector>

#include "ddpm/experiments/gmm_experiment.h"

namespace ddpm {

// Writes the PNGs into `dir` (which must exist) and returns their paths.
std::vector<std::string> write_gmm_figures(const GmmExperimentConfig& config, const GmmReport& report,
                                           const std::string& dir);

}  // namespace ddpm
