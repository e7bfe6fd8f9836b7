// Exponential moving average of the network's weights (Ho et al. sample from it, decay 0.9999).
// With a warmup: the effective decay is min(decay, (1 + n)/(10 + n)) after n updates, so the average of a
// short run is not dominated by the random initialisation.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>

namespace ddpm {

class Ema {
 public:
  explicit Ema(double decay) : decay_(decay) {}

  // The decay the next update will use.
  double current_decay() const;
  // average ← d·average + (1 - d)·model for every parameter; buffers are copied.
  void update(torch::nn::Module& average, const torch::nn::Module& model);

  int64_t updates() const { return updates_; }
  void set_updates(int64_t n) { updates_ = n; }

 private:
  double decay_;
  int64_t updates_ = 0;
};

}  // namespace ddpm
