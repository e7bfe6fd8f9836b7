// Whole-module weight operations that do not care which network it is: copying, fingerprinting and
// checking every parameter (and buffer) of one module against another of the same architecture.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>

namespace ddpm {

// to ← from for every parameter and buffer (same architecture, so the same order and shapes).
void copy_weights(torch::nn::Module& to, const torch::nn::Module& from);
// to ← from by name for every parameter and buffer `from` has (same shapes); those only `to` has (a class
// embedding added to an unconditional network) keep their values: a fresh network's initialisation. A tensor
// of `from` that `to` lacks is an error.
void copy_shared_weights(torch::nn::Module& to, const torch::nn::Module& from);
// to ← from for the buffers alone (an average of weights still copies the buffers: training/ema.h).
void copy_buffers(torch::nn::Module& to, const torch::nn::Module& from);

// A hash of the parameters' bytes, in order: equal weights give equal fingerprints on every machine
// with the same byte order.
int64_t weights_fingerprint(const torch::nn::Module& module);

// Whether every parameter is finite (no NaN or ±inf).
bool all_finite(const torch::nn::Module& module);

}  // namespace ddpm
