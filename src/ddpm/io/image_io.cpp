// PNG writing through stb_image_write, JPEG through libjpeg-turbo's TurboJPEG API, both into memory and
// then to the file atomically (io/atomic_file.h); and grid tiling. Pixels map from [-1, 1] as round((x + 1) * 127.5),
// the inverse of the loaders' x / 127.5 - 1.
#include "ddpm/io/image_io.h"

#include <stb_image_write.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "ddpm/io/atomic_file.h"

namespace ddpm {
namespace {

// uint8 [H, W, C] on the CPU from [C, H, W] or [H, W], after checking what every encoder needs.
torch::Tensor checked_hwc(const std::string& path, const torch::Tensor& image, const char* writer, int64_t max_channels) {
  TORCH_CHECK(image.scalar_type() == torch::kUInt8, writer, "(", path, "): expected uint8 pixels, got ",
              image.scalar_type());
  TORCH_CHECK(image.dim() == 2 || image.dim() == 3, writer, "(", path, "): expected [C, H, W] or [H, W], got ",
              image.sizes());
  auto chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  TORCH_CHECK(c == 1 || c == 3 || (c == 4 && max_channels == 4), writer, "(", path, "): expected 1, 3",
              max_channels == 4 ? " or 4" : "", " channels, got ", c);
  TORCH_CHECK(h > 0 && w > 0 && h < (1 << 30) / std::max<int64_t>(w * c, 1), writer, "(", path,
              "): bad image size ", chw.sizes());
  return chw.permute({1, 2, 0}).contiguous().cpu();
}

void write_encoded(const std::string& path, const std::string& bytes, const char* format) {
  try {
    write_file_atomically(path, bytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: cannot write {} ({})", path, format, e.what()));
  }
}

}  // namespace

ImageFormat image_format_for(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (ext == ".png") return ImageFormat::Png;
  if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::Jpeg;
  throw std::invalid_argument(fmt::format("{}: images are written as .png or .jpg/.jpeg, not '{}'", path, ext));
}

std::vector<std::string> image_output_extensions() { return {".png", ".jpg", ".jpeg"}; }

void write_png(const std::string& path, const torch::Tensor& image) {
  const auto hwc = checked_hwc(path, image, "write_png", 4);
  const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1)), c = static_cast<int>(hwc.size(2));
  std::string bytes;
  const auto append = [](void* out, void* data, int size) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &bytes, w, h, c, hwc.data_ptr<uint8_t>(), w * c))
    throw std::runtime_error(fmt::format("{}: cannot encode PNG", path));
  write_encoded(path, bytes, "PNG");
}

void write_jpeg(const std::string& path, const torch::Tensor& image) {
  const auto hwc = checked_hwc(path, image, "write_jpeg", 3);
  const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
  const bool gray = hwc.size(2) == 1;
  std::unique_ptr<void, int (*)(tjhandle)> encoder(tjInitCompress(), tjDestroy);
  if (!encoder) throw std::bad_alloc();
  unsigned char* jpeg = nullptr;  // allocated by TurboJPEG
  unsigned long size = 0;
  const int rc = tjCompress2(encoder.get(), hwc.data_ptr<uint8_t>(), w, 0, h, gray ? TJPF_GRAY : TJPF_RGB, &jpeg,
                             &size, gray ? TJSAMP_GRAY : TJSAMP_444, 95, 0);
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(jpeg, tjFree);
  if (rc != 0) throw std::runtime_error(fmt::format("{}: cannot encode JPEG ({})", path, tjGetErrorStr2(encoder.get())));
  write_encoded(path, std::string(reinterpret_cast<const char*>(jpeg), size), "JPEG");
}

void write_image(const std::string& path, const torch::Tensor& image) {
  if (image_format_for(path) == ImageFormat::Jpeg)
    write_jpeg(path, image);
  else
    write_png(path, image);
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
  write_image(path, upscale_nearest(make_grid(images, nrow, padding), scale));
}

}  // namespace ddpm
