// The time-conditioned MLP ε_θ for point data (see mlp.h).
#include "ddpm/models/mlp.h"

#include <stdexcept>

#include "ddpm/models/mixed_precision.h"
#include "ddpm/models/timestep_embedding.h"

namespace ddpm {

namespace nn = torch::nn;

void check_mlp_config(const MLPConfig& c) {
  constexpr int64_t kMaxWidth = 65536, kMaxDepth = 256;
  auto require = [](const char* field, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi)
      throw std::invalid_argument(fmt::format("mlp config: {} must be from {} to {}, got {}", field, lo, hi, value));
  };
  require("data_dim", c.data_dim, 1, kMaxWidth);
  require("hidden", c.hidden, 1, kMaxWidth);
  require("depth", c.depth, 1, kMaxDepth);
  require("time_embed_dim", c.time_embed_dim, 4, kMaxWidth);
}

MLPImpl::MLPImpl(const MLPConfig& c, int64_t classes) : NoiseNetImpl(classes), config_(c) {
  check_mlp_config(c);
  if (classes > 0) class_embedding = register_module("class_embedding", nn::Embedding(classes + 1, c.time_embed_dim));
  auto layers = register_module("layers", nn::ModuleList());
  int64_t width = c.data_dim + c.time_embed_dim;
  for (int64_t i = 0; i < c.depth; ++i, width = c.hidden) {
    hidden_.emplace_back(width, c.hidden);
    layers->push_back(hidden_.back());
  }
  out = register_module("out", nn::Linear(c.hidden, c.data_dim));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels) {
  TORCH_CHECK(x_t.dim() == 2 && x_t.size(1) == config_.data_dim, "MLP: expected x_t of shape [B, ",
              config_.data_dim, "], got ", x_t.sizes());
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x_t.size(0), "MLP: expected t of shape [", x_t.size(0),
              "], got ", t.sizes());
  auto temb = sinusoidal_embedding(t, config_.time_embed_dim).to(x_t.dtype());  // [B, E]
  if (auto c = class_embedding_of(class_embedding, classes(), labels, x_t.size(0), "MLP"); c.defined()) temb = temb + c;
  auto h = torch::cat({x_t, temb}, 1);  // [B, d + E]
  for (auto& layer : hidden_) h = torch::silu(apply_linear(layer, h));
  return apply_linear(out, h).to(torch::kFloat32);  // [B, d]
}

}  // namespace ddpm
