// AdamW's per-parameter state (the same as Adam's: the decay needs none) as named tensors, so a checkpoint
// stores it in safetensors and a resumed run continues bit-identically: "<parameter>.exp_avg", "<parameter>.exp_avg_sq", "<parameter>.step".
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ddpm {

std::vector<std::pair<std::string, torch::Tensor>> adam_state_tensors(torch::optim::AdamW& optimizer,
                                                                      const torch::nn::Module& model);

// Restores the state written by adam_state_tensors; every parameter's entries must be present with the
// parameter's shape, or it throws naming the entry.
void load_adam_state(torch::optim::AdamW& optimizer, const torch::nn::Module& model,
                     const std::map<std::string, torch::Tensor>& tensors);

}  // namespace ddpm
