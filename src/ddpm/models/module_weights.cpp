#include "ddpm/models/module_weights.h"

#include <string_view>

namespace ddpm {

namespace {

void copy_all(std::vector<torch::Tensor> to, const std::vector<torch::Tensor>& from, const char* what) {
  TORCH_CHECK(to.size() == from.size(), "copying ", what, ": ", from.size(), " tensors into ", to.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

}  // namespace

void copy_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  copy_all(to.parameters(), from.parameters(), "parameters");
  copy_buffers(to, from);
}

void copy_shared_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  auto targets = to.named_parameters();
  for (const auto& b : to.named_buffers()) targets.insert(b.key(), b.value());
  auto sources = from.named_parameters();
  for (const auto& b : from.named_buffers()) sources.insert(b.key(), b.value());
  for (auto& target : targets) {
    if (const auto* source = sources.find(target.key())) {
      TORCH_CHECK(source->sizes() == target.value().sizes(), "copying ", target.key(), ": shape ", source->sizes(),
                  " into ", target.value().sizes());
      target.value().copy_(*source);
    }
  }
  for (const auto& source : sources) TORCH_CHECK(targets.contains(source.key()), "copying weights: ", source.key(), " has no place");
}

void copy_buffers(torch::nn::Module& to, const torch::nn::Module& from) {
  copy_all(to.buffers(), from.buffers(), "buffers");
}

int64_t weights_fingerprint(const torch::nn::Module& module) {
  size_t h = 0;
  for (const auto& p : module.parameters()) {
    const auto cpu = p.detach().to(torch::kCPU).contiguous();
    const std::string_view bytes(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
    h = h * 1000003u ^ std::hash<std::string_view>{}(bytes);
  }
  return static_cast<int64_t>(h >> 2);
}

bool all_finite(const torch::nn::Module& module) {
  for (const auto& p : module.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace ddpm
