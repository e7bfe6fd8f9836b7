// Image decoding through stb_image; the cap is enforced with stbi_info before stbi_load allocates.
#include "io/image_read.h"

#include <stb_image.h>

#include <memory>
#include <stdexcept>

namespace ddpm {

ImageInfo read_image_info(const std::string& path, int64_t max_pixels) {
  int w = 0, h = 0, c = 0;
  if (!stbi_info(path.c_str(), &w, &h, &c))
    throw std::runtime_error(fmt::format("{}: not a readable image ({})", path, stbi_failure_reason()));
  if (w <= 0 || h <= 0 || int64_t{w} * h > max_pixels)
    throw std::runtime_error(fmt::format("{}: {}x{} pixels exceeds the limit of {} pixels", path, w, h,
                                         max_pixels));
  return {w, h, c};
}

torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels) {
  TORCH_CHECK(channels == 1 || channels == 3, "read_image(", path, "): channels must be 1 or 3, got ", channels);
  const ImageInfo info = read_image_info(path, max_pixels);
  int w = 0, h = 0, c = 0;
  std::unique_ptr<uint8_t, void (*)(void*)> data(stbi_load(path.c_str(), &w, &h, &c, static_cast<int>(channels)),
                                                 stbi_image_free);
  if (!data) throw std::runtime_error(fmt::format("{}: cannot decode ({})", path, stbi_failure_reason()));
  if (w != info.width || h != info.height)
    throw std::runtime_error(fmt::format("{}: header and decoded size disagree", path));
  auto hwc = torch::from_blob(data.get(), {h, w, channels}, torch::kUInt8);
  // clone, not contiguous(): with one channel the permuted view is already contiguous and would keep
  // pointing into stb's buffer after it is freed.
  return hwc.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

}  // namespace ddpm
