// Exponential moving average of the network's weights (Ho et al. 2020 sample from it, decay 0.9999).
// With a warm-up, so that the average of a short run is not dominated by the random initialisation: the
// decay after n updates is min(decay, w(n)), a function of n alone, so a resumed or extended run averages
// exactly as an uninterrupted one.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

// The warm-up w(n):
//   ratio: (1 + n)/(10 + n), TensorFlow's ExponentialMovingAverage with num_updates (a horizon of ~n/9 steps);
//   power: 1 - (1 + n)^(-2/3), diffusers' EMAModel(use_ema_warmup=True) with its defaults inv_gamma = 1,
//          power = 2/3 (a horizon of ~n^(2/3): longer than ratio's early, shorter late);
//   none:  the full decay from the first update.
std::vector<std::string> ema_warmup_kinds();
double ema_warmup_decay(const std::string& warmup, int64_t updates);

class Ema {
 public:
  // Throws std::invalid_argument for an unknown warm-up or a decay outside [0, 1].
  Ema(double decay, std::string warmup);

  // The decay the next update will use.
  double current_decay() const;
  // average ← d·average + (1 - d)·model for every parameter; buffers are copied.
  void update(torch::nn::Module& average, const torch::nn::Module& model);

  int64_t updates() const { return updates_; }
  void set_updates(int64_t n) { updates_ = n; }

 private:
  double decay_;
  std::string warmup_;
  int64_t updates_ = 0;
};

}  // namespace ddpm
