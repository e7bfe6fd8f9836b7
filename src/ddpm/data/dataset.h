// The in-memory data set every loader returns: images kept compact as uint8 NCHW (converted to the
// model's [-1, 1] range one batch at a time), or low-dimensional float32 points.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

struct Dataset {
  std::string name;      // e.g. "fashion-mnist/train", shown in logs and saved in run configs
  torch::Tensor images;  // uint8 [N, C, H, W]; undefined for point data
  torch::Tensor points;  // float32 [N, d]; undefined for image data
  torch::Tensor labels;  // int64 [N] in 0..K-1, or undefined when the source has none
  std::vector<std::string> class_names;  // the K classes by name, in label order (empty without labels)

  bool is_image() const { return images.defined(); }
  int64_t size() const;
  // [C, H, W] for images, [d] for points.
  std::vector<int64_t> sample_shape() const;
  // The examples at `indices` (int64 [B]) as float32 in model range: images in [-1, 1], points as stored.
  torch::Tensor batch(const torch::Tensor& indices) const;
};

// uint8 pixels [.., C, H, W] -> float32 in [-1, 1] (x / 127.5 - 1), as in Ho et al.
torch::Tensor to_model_range(const torch::Tensor& uint8_batch);

// Image data set from uint8 [N, C, H, W] pixels and optional int64-convertible labels [N] with their class
// names (default: the labels' numbers, "0" up to the largest); checks shapes and that every label names a class.
Dataset make_image_dataset(std::string name, torch::Tensor images, torch::Tensor labels = {},
                           std::vector<std::string> class_names = {});
// Sets a point data set's labels and class names (as make_image_dataset checks them).
void set_labels(Dataset& data, torch::Tensor labels, std::vector<std::string> class_names = {});
// Point data set from float [N, d]; checks shape and finiteness.
Dataset make_point_dataset(std::string name, torch::Tensor points);

}  // namespace ddpm
