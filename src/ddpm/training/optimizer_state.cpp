// LibTorch keys Adam's state by the parameter's TensorImpl address: a string in 1.13, a pointer in 2.x.
#include "ddpm/training/optimizer_state.h"

#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace ddpm {
namespace {

template <typename Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream key;
    key << static_cast<const void*>(p.unsafeGetTensorImpl());
    return key.str();
  } else {
    return static_cast<typename Map::key_type>(p.unsafeGetTensorImpl());
  }
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> adam_state_tensors(torch::optim::AdamW& optimizer,
                                                                      const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto& state = optimizer.state();
  for (const auto& item : model.named_parameters()) {
    auto it = state.find(state_key(state, item.value()));
    if (it == state.end()) continue;  // no step taken yet
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    out.emplace_back(item.key() + ".exp_avg", s.exp_avg().detach().to(torch::kCPU));
    out.emplace_back(item.key() + ".exp_avg_sq", s.exp_avg_sq().detach().to(torch::kCPU));
    out.emplace_back(item.key() + ".step", torch::tensor({static_cast<int64_t>(s.step())}, torch::kLong));
  }
  return out;
}

void load_adam_state(torch::optim::AdamW& optimizer, const torch::nn::Module& model,
                     const std::map<std::string, torch::Tensor>& tensors) {
  auto& state = optimizer.state();
  state.clear();
  if (tensors.empty()) return;  // a checkpoint written before the first step
  auto get = [&](const std::string& name, const torch::Tensor& like) {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("optimizer state lacks '" + name + "'");
    if (like.defined() && it->second.sizes() != like.sizes())
      throw std::runtime_error(fmt::format("optimizer state '{}' has shape {}, expected {}", name,
                                           fmt::join(it->second.sizes(), "x"), fmt::join(like.sizes(), "x")));
    return it->second;
  };
  for (const auto& item : model.named_parameters()) {
    const auto& p = item.value();
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->exp_avg(get(item.key() + ".exp_avg", p).to(p.options()).clone());
    s->exp_avg_sq(get(item.key() + ".exp_avg_sq", p).to(p.options()).clone());
    s->step(get(item.key() + ".step", torch::Tensor()).item<int64_t>());
    state[state_key(state, p)] = std::move(s);
  }
}

}  // namespace ddpm
