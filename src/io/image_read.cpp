// PNG decoding through libspng and JPEG decoding through libjpeg-turbo (its TurboJPEG API), from the file's
// bytes. Both libraries are fuzzed continuously upstream (OSS-Fuzz) and report errors by return code, so
// no setjmp/longjmp crosses C++ frames. The pixel cap is checked from the header before anything is
// decoded. Files are told apart by their signature, not their name.
#include "io/image_read.h"

#include <spng.h>
#include <turbojpeg.h>

#include "io/atomic_file.h"

#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

namespace ddpm {
namespace {

enum class Format { png, jpeg };

Format format_of(const std::string& bytes, const std::string& path) {
  static const char png_signature[] = "\x89PNG\r\n\x1a\n";
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_signature, 8) == 0) return Format::png;
  if (bytes.size() >= 3 && std::memcmp(bytes.data(), "\xFF\xD8\xFF", 3) == 0) return Format::jpeg;
  throw std::runtime_error(fmt::format("{}: not a PNG or JPEG file", path));
}

std::string read_image_bytes(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  // TurboJPEG takes the size as unsigned long, libspng as size_t; the bound keeps both, and int users, safe.
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw std::runtime_error(fmt::format("{}: {} bytes, too large for an image file", path, bytes.size()));
  return bytes;
}

void check_pixels(int64_t width, int64_t height, const std::string& path, int64_t max_pixels) {
  if (width <= 0 || height <= 0 || width * height > max_pixels)
    throw std::runtime_error(fmt::format("{}: {}x{} pixels exceeds the limit of {} pixels", path, width, height,
                                         max_pixels));
}

// ---- PNG (libspng)

using SpngContext = std::unique_ptr<spng_ctx, void (*)(spng_ctx*)>;

void spng_check(int rc, const std::string& path) {
  if (rc != 0) throw std::runtime_error(fmt::format("{}: corrupt PNG ({})", path, spng_strerror(rc)));
}

// A decoder over the bytes with its header read. Ancillary chunks are bounded so that a forged file
// cannot make the decoder hold more than a few MiB besides the image.
SpngContext open_png(const std::string& bytes, const std::string& path, spng_ihdr& ihdr) {
  SpngContext ctx(spng_ctx_new(0), spng_ctx_free);
  if (!ctx) throw std::bad_alloc();
  spng_check(spng_set_chunk_limits(ctx.get(), 1 << 24, 1 << 24), path);
  spng_check(spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size()), path);
  spng_check(spng_get_ihdr(ctx.get(), &ihdr), path);
  return ctx;
}

int64_t png_channels(const spng_ihdr& ihdr) {
  switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: return 1;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return 4;
    default: return 3;  // truecolor, indexed
  }
}

ImageInfo png_info(const std::string& bytes, const std::string& path) {
  spng_ihdr ihdr{};
  open_png(bytes, path, ihdr);
  return {ihdr.width, ihdr.height, png_channels(ihdr)};
}

// RGB8 [H, W, 3]: 16-bit samples keep their high byte, palettes are expanded, alpha is dropped.
torch::Tensor decode_png(const std::string& bytes, const std::string& path, int64_t max_pixels) {
  spng_ihdr ihdr{};
  auto ctx = open_png(bytes, path, ihdr);
  check_pixels(ihdr.width, ihdr.height, path, max_pixels);
  size_t size = 0;
  spng_check(spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &size), path);
  auto hwc = torch::empty({int64_t{ihdr.height}, int64_t{ihdr.width}, 3}, torch::kUInt8);
  if (size != static_cast<size_t>(hwc.numel())) throw std::runtime_error(fmt::format("{}: corrupt PNG (size)", path));
  spng_check(spng_decode_image(ctx.get(), hwc.data_ptr<uint8_t>(), size, SPNG_FMT_RGB8, 0), path);
  return hwc;
}

// ---- JPEG (TurboJPEG)

using TurboJpeg = std::unique_ptr<void, int (*)(tjhandle)>;

struct JpegHeader {
  TurboJpeg decoder{nullptr, tjDestroy};
  int width = 0, height = 0, colorspace = 0;
};

JpegHeader open_jpeg(const std::string& bytes, const std::string& path) {
  JpegHeader h;
  h.decoder.reset(tjInitDecompress());
  if (!h.decoder) throw std::bad_alloc();
  int subsampling = 0;
  if (tjDecompressHeader3(h.decoder.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<unsigned long>(bytes.size()), &h.width, &h.height, &subsampling,
                          &h.colorspace) != 0)
    throw std::runtime_error(fmt::format("{}: corrupt JPEG ({})", path, tjGetErrorStr2(h.decoder.get())));
  return h;
}

ImageInfo jpeg_info(const std::string& bytes, const std::string& path) {
  const auto h = open_jpeg(bytes, path);
  const int64_t channels = h.colorspace == TJCS_GRAY ? 1 : (h.colorspace == TJCS_CMYK || h.colorspace == TJCS_YCCK) ? 4 : 3;
  return {h.width, h.height, channels};
}

// RGB8 [H, W, 3]. Warnings (a truncated scan, say) count as errors: such a file is refused rather than
// decoded with gray filler; files with hundreds of progressive scans are refused too (a known way to
// make a small file decode for minutes).
torch::Tensor decode_jpeg(const std::string& bytes, const std::string& path, int64_t max_pixels) {
  auto h = open_jpeg(bytes, path);
  check_pixels(h.width, h.height, path, max_pixels);
  auto hwc = torch::empty({h.height, h.width, 3}, torch::kUInt8);
  if (tjDecompress2(h.decoder.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    static_cast<unsigned long>(bytes.size()), hwc.data_ptr<uint8_t>(), h.width, 0, h.height,
                    TJPF_RGB, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    throw std::runtime_error(fmt::format("{}: corrupt JPEG ({})", path, tjGetErrorStr2(h.decoder.get())));
  return hwc;
}

ImageInfo info_of(const std::string& bytes, const std::string& path, int64_t max_pixels) {
  const ImageInfo info = format_of(bytes, path) == Format::png ? png_info(bytes, path) : jpeg_info(bytes, path);
  check_pixels(info.width, info.height, path, max_pixels);
  return info;
}

}  // namespace

torch::Tensor rgb_to_gray(const torch::Tensor& rgb, int64_t channel_dim) {
  TORCH_CHECK(rgb.size(channel_dim) == 3, "rgb_to_gray: expected 3 channels in dimension ", channel_dim);
  const auto f = rgb.to(torch::kFloat32);
  return (f.select(channel_dim, 0) * 0.299 + f.select(channel_dim, 1) * 0.587 + f.select(channel_dim, 2) * 0.114)
      .round()
      .clamp(0, 255)
      .to(torch::kUInt8)
      .unsqueeze(channel_dim);
}

ImageInfo read_image_info(const std::string& path, int64_t max_pixels) {
  return info_of(read_image_bytes(path), path, max_pixels);
}

torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels) {
  TORCH_CHECK(channels == 1 || channels == 3, "read_image(", path, "): channels must be 1 or 3, got ", channels);
  const std::string bytes = read_image_bytes(path);
  const auto hwc = format_of(bytes, path) == Format::png ? decode_png(bytes, path, max_pixels)
                                                         : decode_jpeg(bytes, path, max_pixels);
  const auto chw = hwc.permute({2, 0, 1});
  return channels == 1 ? rgb_to_gray(chw, 0) : chw.contiguous();
}

}  // namespace ddpm
