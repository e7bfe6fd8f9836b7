// Image decoding through stb_image, from the file's bytes; the cap is enforced with stbi_info before
// stbi_load allocates.
#include "io/image_read.h"

#include <stb_image.h>

#include "io/atomic_file.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>

namespace ddpm {
namespace {

// stb_image (Debian's 2022 snapshot) writes past its Huffman size table when a JPEG DHT segment declares
// more than 256 codes (found by fuzz/fuzz_image_folder), so such files are refused before stb sees them.
// Walks the marker segments as stb does: lengths before and between scans, FF xx markers inside scans.
void check_jpeg_huffman_tables(const std::string& bytes, const std::string& path) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 2 || p[0] != 0xFF || p[1] != 0xD8) return;  // not a JPEG
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) {  // entropy-coded data of a scan: skip to the next marker that is not FF00 or RSTn
      ++i;
      continue;
    }
    const unsigned char marker = p[i + 1];
    if (marker == 0x00 || marker == 0xFF || (marker >= 0xD0 && marker <= 0xD8)) {
      ++i;
      continue;
    }
    if (marker == 0xD9) return;  // end of image
    const size_t length = (size_t{p[i + 2]} << 8) | p[i + 3];
    const size_t end = std::min(n, i + 2 + length);
    if (marker == 0xC4)
      for (size_t t = i + 4; t < end;) {
        size_t codes = 0;
        for (size_t k = 1; k <= 16 && t + k < n; ++k) codes += p[t + k];  // stb reads zeros past the end
        if (codes > 256)
          throw std::runtime_error(fmt::format("{}: corrupt JPEG (a Huffman table declares {} codes, at most 256)", path, codes));
        t += 17 + codes;
      }
    i = std::max(end, i + 2);
  }
}

// The file's bytes, refused if stb could not decode them safely (size for its int API, JPEG tables).
std::string read_image_bytes(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw std::runtime_error(fmt::format("{}: {} bytes, too large for an image file", path, bytes.size()));
  check_jpeg_huffman_tables(bytes, path);
  return bytes;
}

const stbi_uc* data_of(const std::string& bytes) { return reinterpret_cast<const stbi_uc*>(bytes.data()); }

ImageInfo info_of(const std::string& bytes, const std::string& path, int64_t max_pixels) {
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data_of(bytes), static_cast<int>(bytes.size()), &w, &h, &c))
    throw std::runtime_error(fmt::format("{}: not a readable image ({})", path, stbi_failure_reason()));
  if (w <= 0 || h <= 0 || int64_t{w} * h > max_pixels)
    throw std::runtime_error(fmt::format("{}: {}x{} pixels exceeds the limit of {} pixels", path, w, h,
                                         max_pixels));
  return {w, h, c};
}

}  // namespace

ImageInfo read_image_info(const std::string& path, int64_t max_pixels) {
  return info_of(read_image_bytes(path), path, max_pixels);
}

torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels) {
  TORCH_CHECK(channels == 1 || channels == 3, "read_image(", path, "): channels must be 1 or 3, got ", channels);
  const std::string bytes = read_image_bytes(path);
  const ImageInfo info = info_of(bytes, path, max_pixels);
  int w = 0, h = 0, c = 0;
  std::unique_ptr<uint8_t, void (*)(void*)> data(
      stbi_load_from_memory(data_of(bytes), static_cast<int>(bytes.size()), &w, &h, &c, static_cast<int>(channels)),
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
