#include "ddpm/samplers/trajectory.h"

#include <algorithm>

namespace ddpm {

TrajectoryRecorder::TrajectoryRecorder(int64_t snapshots, int64_t samples) : snapshots_(snapshots), samples_(samples) {}

StepCallback TrajectoryRecorder::callback(StepCallback next) {
  return [this, next](int64_t step, int64_t total, const torch::Tensor& x, const torch::Tensor& pred_x0) {
    if (at_steps_.empty()) {
      const int64_t n = std::max<int64_t>(1, std::min(snapshots_, total));
      for (int64_t k = 1; k <= n; ++k) at_steps_.push_back((k * total + n - 1) / n);
    }
    if (std::find(at_steps_.begin(), at_steps_.end(), step) != at_steps_.end()) {
      const int64_t n = std::min<int64_t>(samples_, x.size(0));
      x_.push_back(x.slice(0, 0, n).detach().to(torch::kCPU, torch::kFloat32));
      x0_.push_back(pred_x0.slice(0, 0, n).detach().to(torch::kCPU, torch::kFloat32));
    }
    if (next) next(step, total, x, pred_x0);
  };
}

torch::Tensor TrajectoryRecorder::as_grid_batch() const {
  TORCH_CHECK(!x_.empty(), "no trajectory was recorded");
  // Row r of the grid: sample r/2, x_t (even) or x̂_0 (odd); column c: snapshot c. Grids fill row-major.
  std::vector<torch::Tensor> cells;
  const int64_t n = x_.front().size(0);
  for (int64_t s = 0; s < n; ++s) {
    for (const auto& x : x_) cells.push_back(x[s]);
    for (const auto& x0 : x0_) cells.push_back(x0[s].clamp(-1, 1));
  }
  return torch::stack(cells);
}

}  // namespace ddpm
