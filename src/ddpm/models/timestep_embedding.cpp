// Sinusoidal timestep embedding and its MLP (see timestep_embedding.h for the numeric conventions).
#include "ddpm/models/timestep_embedding.h"

namespace ddpm {

torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim, bool flip_sin_to_cos, int64_t freq_shift) {
  TORCH_CHECK(t.dim() == 1, "sinusoidal_embedding: timesteps must be 1-D [B], got ", t.sizes());
  TORCH_CHECK(dim / 2 - freq_shift > 0, "sinusoidal_embedding: dim ", dim, " too small for freq_shift ", freq_shift);
  const int64_t half = dim / 2;
  constexpr double kMaxPeriod = 10000.0;
  // Same operation order as diffusers' get_timestep_embedding: scale arange, divide, exp, outer product.
  auto exponent = -std::log(kMaxPeriod) * torch::arange(half, torch::dtype(torch::kFloat32).device(t.device()));
  exponent = exponent / static_cast<double>(half - freq_shift);
  auto args = t.to(torch::kFloat32).unsqueeze(1) * exponent.exp().unsqueeze(0);  // [B, half]
  auto emb = flip_sin_to_cos ? torch::cat({args.cos(), args.sin()}, 1) : torch::cat({args.sin(), args.cos()}, 1);
  if (dim % 2 == 1) emb = torch::nn::functional::pad(emb, torch::nn::functional::PadFuncOptions({0, 1}));
  return emb;
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_dim, int64_t embed_dim)
    : linear_1(register_module("linear_1", torch::nn::Linear(in_dim, embed_dim))),
      linear_2(register_module("linear_2", torch::nn::Linear(embed_dim, embed_dim))) {}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& sinusoid) {
  return linear_2(torch::silu(linear_1(sinusoid)));
}

}  // namespace ddpm
