// Reading PNG/JPEG (and the other formats stb_image knows) into uint8 tensors, with a pixel-count cap
// checked from the header before the decoder allocates.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace ddpm {

// 64 megapixels: well above any training image, well below what would exhaust memory when decoded.
constexpr int64_t kMaxImagePixels = int64_t{64} << 20;

struct ImageInfo {
  int64_t width = 0, height = 0, channels = 0;  // channels as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
};

// Header only; throws naming the file if it is not a readable image or exceeds max_pixels.
ImageInfo read_image_info(const std::string& path, int64_t max_pixels = kMaxImagePixels);

// Decodes to uint8 [channels, H, W] with channels 1 (luminance) or 3 (RGB); alpha is dropped.
torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels = kMaxImagePixels);

}  // namespace ddpm
