// Horizontal flips: the coin flips and their application are separate, so a sharded batch can draw the
// coins of the whole global batch and apply only its own slice.
#include "ddpm/data/augment.h"

namespace ddpm {

torch::Tensor random_flip_mask(int64_t n, at::Generator& gen) {
  return torch::rand({n}, gen, torch::TensorOptions().dtype(torch::kFloat32)) < 0.5;
}

torch::Tensor flip_where(const torch::Tensor& images, const torch::Tensor& mask) {
  TORCH_CHECK(images.dim() == 4, "flip_where: expected [B, C, H, W] images, got ", images.sizes());
  TORCH_CHECK(mask.dim() == 1 && mask.size(0) == images.size(0) && mask.scalar_type() == torch::kBool,
              "flip_where: expected a bool mask of ", images.size(0), " entries");
  return torch::where(mask.view({-1, 1, 1, 1}).to(images.device()), images.flip({3}), images);
}

}  // namespace ddpm
