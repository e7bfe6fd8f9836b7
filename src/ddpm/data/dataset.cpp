// The in-memory data set: shape checks on construction and batch gathering in model range.
#include "ddpm/data/dataset.h"

#include <stdexcept>

#include "ddpm/models/model_config.h"

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

void set_labels(Dataset& d, torch::Tensor labels, std::vector<std::string> class_names) {
  if (labels.dim() != 1 || labels.size(0) != d.size())
    throw std::invalid_argument(fmt::format("{}: {} labels for {} examples", d.name, labels.numel(), d.size()));
  labels = labels.to(torch::kInt64);
  const int64_t lowest = labels.min().item<int64_t>(), highest = labels.max().item<int64_t>();
  if (lowest < 0) throw std::invalid_argument(fmt::format("{}: a label is negative ({})", d.name, lowest));
  if (class_names.empty()) {
    if (highest >= kMaxClasses)
      throw std::invalid_argument(fmt::format("{}: label {} is above the {} classes a network takes", d.name, highest, kMaxClasses));
    for (int64_t k = 0; k <= highest; ++k) class_names.push_back(std::to_string(k));
  }
  if (highest >= static_cast<int64_t>(class_names.size()))
    throw std::invalid_argument(fmt::format("{}: label {} but {} class names", d.name, highest, class_names.size()));
  check_class_names(class_names, d.name + ": class names");
  d.labels = labels;
  d.class_names = std::move(class_names);
}

Dataset make_image_dataset(std::string name, torch::Tensor images, torch::Tensor labels,
                           std::vector<std::string> class_names) {
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8)
    throw std::invalid_argument(fmt::format("{}: images must be uint8 [N, C, H, W], got {} {}", name,
                                            c10::str(images.sizes()), c10::toString(images.scalar_type())));
  if (images.size(0) == 0) throw std::invalid_argument(fmt::format("{}: no images", name));
  if (images.size(1) != 1 && images.size(1) != 3)
    throw std::invalid_argument(fmt::format("{}: images need 1 or 3 channels, got {}", name, images.size(1)));
  Dataset d;
  d.name = std::move(name);
  d.images = images.contiguous();
  if (labels.defined()) set_labels(d, labels, std::move(class_names));
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
