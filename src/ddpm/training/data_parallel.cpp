#include "ddpm/training/data_parallel.h"

#include <vector>

#include "ddpm/models/module_weights.h"
#include "ddpm/runtime/device.h"

namespace ddpm {

c10::Device device_for_rank(const std::string& name, const std::optional<DataParallel>& parallel) {
  auto device = parse_device(name);
  if (parallel && device.is_cuda() && !device.has_index())
    device.set_index(static_cast<c10::DeviceIndex>(parallel->env.local_rank));
  return device;
}

std::shared_ptr<DistributedGroup> join_group(const std::optional<DataParallel>& parallel, const c10::Device& device) {
  if (!parallel) return nullptr;
  return DistributedGroup::join(parallel->env, device, parallel->timeout);
}

void check_ranks_agree(DistributedGroup& group, int64_t step, const std::string& config_json,
                       const torch::nn::Module& net) {
  group.check_same(step, "the step to start from (every rank must read the same run folder)");
  const auto config_hash = static_cast<int64_t>(std::hash<std::string>{}(config_json) >> 2);
  group.check_same(config_hash, "the run configuration (start every rank with the same flags)");
  group.check_same(weights_fingerprint(net),
                   "the starting weights (every rank must read the same initialisation file or run folder)");
}

void average_across_ranks(DistributedGroup& group, torch::nn::Module& net, torch::Tensor& summary,
                          const std::string& what) {
  auto params = net.parameters();
  std::vector<torch::Tensor> parts;
  for (auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    parts.push_back(p.grad().flatten());
  }
  parts.push_back(summary.to(parts.front().options()));
  auto flat = torch::cat(parts);
  group.average(flat, what);
  int64_t at = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    p.grad().copy_(flat.slice(0, at, at + p.numel()).view_as(p));
    at += p.numel();
  }
  summary = flat.slice(0, at).to(torch::kCPU, torch::kFloat64);
}

}  // namespace ddpm
