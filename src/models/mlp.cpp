// The time-conditioned MLP ε_θ for point data (see mlp.h).
#include "models/mlp.h"

#include <stdexcept>

#include "models/timestep_embedding.h"

namespace ddpm {

namespace nn = torch::nn;

MLPImpl::MLPImpl(const MLPConfig& c) : config_(c) {
  auto require = [](bool ok, const std::string& field, int64_t value, const char* what) {
    if (!ok) throw std::invalid_argument(fmt::format("mlp config: {} must be {}, got {}", field, what, value));
  };
  require(c.data_dim >= 1, "data_dim", c.data_dim, ">= 1");
  require(c.hidden >= 1, "hidden", c.hidden, ">= 1");
  require(c.depth >= 1, "depth", c.depth, ">= 1");
  require(c.time_embed_dim >= 4, "time_embed_dim", c.time_embed_dim, ">= 4");
  auto layers = register_module("layers", nn::ModuleList());
  int64_t width = c.data_dim + c.time_embed_dim;
  for (int64_t i = 0; i < c.depth; ++i, width = c.hidden) {
    hidden_.emplace_back(width, c.hidden);
    layers->push_back(hidden_.back());
  }
  out = register_module("out", nn::Linear(c.hidden, c.data_dim));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x_t, const torch::Tensor& t) {
  TORCH_CHECK(x_t.dim() == 2 && x_t.size(1) == config_.data_dim, "MLP: expected x_t of shape [B, ",
              config_.data_dim, "], got ", x_t.sizes());
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x_t.size(0), "MLP: expected t of shape [", x_t.size(0),
              "], got ", t.sizes());
  auto h = torch::cat({x_t, sinusoidal_embedding(t, config_.time_embed_dim).to(x_t.dtype())}, 1);  // [B, d + E]
  for (auto& layer : hidden_) h = torch::silu(layer(h));
  return out(h);  // [B, d]
}

}  // namespace ddpm
