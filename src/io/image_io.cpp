// PNG writing through stb_image_write, and grid tiling. Pixels map from [-1, 1] as round((x + 1) * 127.5),
// the inverse of the loaders' x / 127.5 - 1.
#include "io/image_io.h"

#include <stb_image_write.h>

#include <stdexcept>

#include "io/atomic_file.h"

namespace ddpm {
namespace {

// stb's callback writer, into memory: the file itself is then written (and checked) atomically.
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

std::vector<std::string> image_output_extensions() { return {".png"}; }

void write_png(const std::string& path, const torch::Tensor& image) {
  TORCH_CHECK(image.scalar_type() == torch::kUInt8, "write_png(", path, "): expected uint8 pixels, got ",
              image.scalar_type());
  TORCH_CHECK(image.dim() == 2 || image.dim() == 3, "write_png(", path, "): expected [C, H, W] or [H, W], got ",
              image.sizes());
  auto chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  TORCH_CHECK(c == 1 || c == 3 || c == 4, "write_png(", path, "): expected 1, 3 or 4 channels, got ", c);
  TORCH_CHECK(h > 0 && w > 0 && h < (1 << 30) / std::max<int64_t>(w * c, 1), "write_png(", path,
              "): bad image size ", chw.sizes());
  const auto hwc = chw.permute({1, 2, 0}).contiguous().cpu();
  std::string bytes;
  const int ok = stbi_write_png_to_func(append_bytes, &bytes, static_cast<int>(w), static_cast<int>(h),
                                        static_cast<int>(c), hwc.data_ptr<uint8_t>(), static_cast<int>(w * c));
  if (!ok) throw std::runtime_error(fmt::format("cannot encode '{}' as PNG", path));
  write_file_atomically(path, bytes);
}

torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow, int64_t padding) {
  TORCH_CHECK(images.dim() == 4 && images.size(0) > 0, "make_grid: expected [N, C, H, W] images, got ",
              images.sizes());
  TORCH_CHECK(nrow > 0 && padding >= 0, "make_grid: need nrow > 0 and padding >= 0");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t cols = std::min(nrow, n), rows = (n + cols - 1) / cols;
  const auto pixels =
      images.detach().to(torch::kCPU, torch::kFloat32).add(1.0).mul(127.5).round().clamp(0, 255).to(torch::kUInt8);
  auto grid = torch::zeros({c, rows * (h + padding) + padding, cols * (w + padding) + padding}, torch::kUInt8);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t y = padding + (k / cols) * (h + padding), x = padding + (k % cols) * (w + padding);
    grid.slice(1, y, y + h).slice(2, x, x + w).copy_(pixels[k]);
  }
  return grid;
}

torch::Tensor upscale_nearest(const torch::Tensor& image, int64_t factor) {
  TORCH_CHECK(image.dim() == 3, "upscale_nearest: expected [C, H, W], got ", image.sizes());
  TORCH_CHECK(factor >= 1, "upscale_nearest: factor must be >= 1, got ", factor);
  if (factor == 1) return image;
  return image.repeat_interleave(factor, 1).repeat_interleave(factor, 2);
}

void save_image_grid(const std::string& path, const torch::Tensor& images, int64_t nrow, int64_t padding,
                     int64_t scale) {
  if (scale == 0) scale = images.size(-1) <= 32 && images.size(-2) <= 32 ? 2 : 1;
  write_png(path, upscale_nearest(make_grid(images, nrow, padding), scale));
}

}  // namespace ddpm
