// How the trainer uses a data-parallel group (training/distributed.h): which device a rank trains on,
// joining, checking that every rank starts from the same state, and averaging each step's gradients.
#pragma once

#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ddpm/training/distributed.h"

namespace ddpm {

// The device named `name`; in a group, `cuda` without an index means this machine's GPU number LOCAL_RANK.
c10::Device device_for_rank(const std::string& name, const std::optional<DataParallel>& parallel);

// Joins the group, or null for a single process.
std::shared_ptr<DistributedGroup> join_group(const std::optional<DataParallel>& parallel, const c10::Device& device);

// Throws unless every rank starts at the same step, with the same configuration (`config_json`, hence the
// same data order) and the same weights: the weights are never broadcast, so ranks that read different
// files (an initialisation file, or a checkpoint on machines without a shared file system) stop here.
void check_ranks_agree(DistributedGroup& group, int64_t step, const std::string& config_json,
                       const torch::nn::Module& net);

// One all-reduce per step: every gradient of `net` and the step's `summary` averaged over the ranks in a
// single flat buffer. `what` names the step in errors.
void average_across_ranks(DistributedGroup& group, torch::nn::Module& net, torch::Tensor& summary,
                          const std::string& what);

}  // namespace ddpm
