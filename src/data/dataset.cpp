// The in-memory data set: shape checks on construction and batch gathering in model range.
#include "data/dataset.h"

#include <stdexcept>

namespace ddpm {

int64_t Dataset::size() const {
  if (images.defined()) return images.size(0);
  if (points.defined()) return points.size(0);
  return 0;
}

std::vector<int64_t> Dataset::sample_shape() const {
  const auto& t = images.defined() ? images : points;
  if (!t.defined()) return {};
  return t.sizes().slice(1).vec();
}

torch::Tensor Dataset::batch(const torch::Tensor& indices) const {
  TORCH_CHECK(images.defined() || points.defined(), "dataset '", name, "' is empty");
  if (images.defined()) return to_model_range(images.index_select(0, indices));
  return points.index_select(0, indices);
}

torch::Tensor to_model_range(const torch::Tensor& uint8_batch) {
  TORCH_CHECK(uint8_batch.scalar_type() == torch::kUInt8, "to_model_range expects uint8 pixels, got ",
              uint8_batch.scalar_type());
  return uint8_batch.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

Dataset make_image_dataset(std::string name, torch::Tensor images, torch::Tensor labels) {
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8)
    throw std::invalid_argument(fmt::format("{}: images must be uint8 [N, C, H, W], got {} {}", name,
                                            c10::str(images.sizes()), c10::toString(images.scalar_type())));
  if (images.size(0) == 0) throw std::invalid_argument(fmt::format("{}: no images", name));
  if (images.size(1) != 1 && images.size(1) != 3)
    throw std::invalid_argument(fmt::format("{}: images need 1 or 3 channels, got {}", name, images.size(1)));
  if (labels.defined()) {
    if (labels.dim() != 1 || labels.size(0) != images.size(0))
      throw std::invalid_argument(fmt::format("{}: {} labels for {} images", name,
                                              labels.numel(), images.size(0)));
    labels = labels.to(torch::kInt64);
  }
  Dataset d;
  d.name = std::move(name);
  d.images = images.contiguous();
  d.labels = labels;
  return d;
}

Dataset make_point_dataset(std::string name, torch::Tensor points) {
  if (points.dim() != 2 || points.size(0) == 0 || points.size(1) == 0)
    throw std::invalid_argument(fmt::format("{}: points must be a non-empty [N, d] table, got {}", name,
                                            c10::str(points.sizes())));
  points = points.to(torch::kFloat32).contiguous();
  if (!torch::isfinite(points).all().item<bool>())
    throw std::invalid_argument(fmt::format("{}: points contain NaN or infinity", name));
  Dataset d;
  d.name = std::move(name);
  d.points = points;
  return d;
}

}  // namespace ddpm
