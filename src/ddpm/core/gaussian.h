// A diagonal Gaussian given by its mean and (log-)variance, broadcastable to the data.
#pragma once

#include <torch/types.h>

namespace ddpm {

struct DiagonalGaussian {
  torch::Tensor mean;          // same shape as the data
  torch::Tensor variance;      // broadcastable to mean ([B, 1, ..., 1] for per-step variances)
  torch::Tensor log_variance;  // log of variance, kept separately where variance underflows
};

}  // namespace ddpm
