// Reading PNG and JPEG files into uint8 tensors, with a pixel-count cap checked from the header before
// the decoder allocates.
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

// Header only; throws naming the file if it is not a PNG or JPEG, its header is corrupt or it exceeds
// max_pixels.
ImageInfo read_image_info(const std::string& path, int64_t max_pixels = kMaxImagePixels);

// Decodes to uint8 [channels, H, W] with channels 1 (luminance, rgb_to_gray) or 3 (RGB); alpha is dropped,
// 16-bit samples keep their high byte, CMYK JPEGs become RGB. Throws naming the file on a decoding error
// or a file that ends before its data.
torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels = kMaxImagePixels);

// uint8 RGB to uint8 luminance with ITU-R BT.601 weights (0.299, 0.587, 0.114), rounded; the channel
// dimension stays, with size 1. Gray stored as RGB (R = G = B) comes back unchanged.
torch::Tensor rgb_to_gray(const torch::Tensor& rgb, int64_t channel_dim);

}  // namespace ddpm
