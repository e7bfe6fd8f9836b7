// Sinusoidal timestep embedding and its MLP (see timestep_embedding.h for the numeric conventions).
#include "ddpm/models/timestep_embedding.h"

namespace ddpm {

torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim) {
  TORCH_CHECK(t.dim() == 1, "sinusoidal_embedding: timesteps must be 1-D [B], got ", t.sizes());
  TORCH_CHECK(dim >= 4, "sinusoidal_embedding: dim must be >= 4 (half - 1 > 0), got ", dim);
  const int64_t half = dim / 2;
  constexpr double kMaxPeriod = 10000.0;
  // Same operation order as diffusers' get_timestep_embedding: scale arange, divide, exp, outer product.
  auto exponent = -std::log(kMaxPeriod) * torch::arange(half, torch::dtype(torch::kFloat32).device(t.device()));
  exponent = exponent / static_cast<double>(half - 1);  // downscale_freq_shift = 1
  auto args = t.to(torch::kFloat32).unsqueeze(1) * exponent.exp().unsqueeze(0);  // [B, half]
  auto emb = torch::cat({args.sin(), args.cos()}, 1);                            // no sin/cos flip
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
