// PNG decoding through libspng and JPEG decoding through libjpeg-turbo (its TurboJPEG API), from the file's
// bytes. Both libraries are fuzzed continuously upstream (OSS-Fuzz) and report errors by return code, so
// no setjmp/longjmp crosses C++ frames. The pixel cap is checked from the header before anything is
// decoded. Files are told apart by their signature, not their name.
#include "ddpm/io/image_read.h"

#include <spng.h>
#include <turbojpeg.h>

#include "ddpm/io/atomic_file.h"

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
  if (width <= 0 || height <= 0)
    throw std::runtime_error(fmt::format("{}: no image in the file ({}x{} pixels)", path, width, height));
  if (width * height > max_pixels)
    throw std::runtime_error(fmt::format("{}: {}x{} pixels exceeds the limit of {} pixels", path, width, height,
                                         max_pixels));
}

// ---- PNG (libspng)

using SpngContext = std::unique_ptr<spng_ctx, void (*)(spng_ctx*)>;

void spng_check(int rc, const std::string& path) {
  if (rc != 0) throw std::runtime_error(fmt::format("{}: corrupt PNG ({})", path, spng_strerror(rc)));
}

// A decoder over the bytes with its header read. Ancillary chunks are bounded (16 MiB each and in all) so
// that a forged file cannot make the decoder hold much besides the image.
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

// RGB8 [H, W, 3]: 16-bit samples keep their high byte, palettes are expanded, alpha is dropped. Gray
// files come out with R = G = B.
torch::Tensor decode_png(const std::string& bytes, const std::string& path, int64_t max_pixels, bool* gray) {
  spng_ihdr ihdr{};
  auto ctx = open_png(bytes, path, ihdr);
  check_pixels(ihdr.width, ihdr.height, path, max_pixels);
  *gray = png_channels(ihdr) <= 2;
  size_t size = 0;
  spng_check(spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &size), path);
  auto hwc = torch::empty({int64_t{ihdr.height}, int64_t{ihdr.width}, 3}, torch::kUInt8);
  if (size != static_cast<size_t>(hwc.numel())) throw std::runtime_error(fmt::format("{}: corrupt PNG (size)", path));
  spng_check(spng_decode_image(ctx.get(), hwc.data_ptr<uint8_t>(), size, SPNG_FMT_RGB8, 0), path);
  return hwc;
}

// ---- JPEG (TurboJPEG)

using TurboJpeg = std::unique_ptr<void, int (*)(tjhandle)>;

// libjpeg reports recoverable problems as warnings, and TurboJPEG then returns -1 too. Most are harmless
// (extra bytes before a marker, an unknown JFIF version) and the image decodes as other readers show it;
// a file that ends before its data does is refused rather than shown with gray filler.
bool tj_failed(tjhandle decoder, int rc) {
  if (rc == 0) return false;
  if (tjGetErrorCode(decoder) != TJERR_WARNING) return true;
  const std::string message = tjGetErrorStr2(decoder);
  return message.find("Premature end") != std::string::npos || message.find("premature end") != std::string::npos;
}

struct JpegHeader {
  TurboJpeg decoder{nullptr, tjDestroy};
  int width = 0, height = 0, colorspace = 0;
  bool cmyk() const { return colorspace == TJCS_CMYK || colorspace == TJCS_YCCK; }
};

JpegHeader open_jpeg(const std::string& bytes, const std::string& path) {
  JpegHeader h;
  h.decoder.reset(tjInitDecompress());
  if (!h.decoder) throw std::bad_alloc();
  int subsampling = 0;
  if (tj_failed(h.decoder.get(),
                tjDecompressHeader3(h.decoder.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                    static_cast<unsigned long>(bytes.size()), &h.width, &h.height, &subsampling,
                                    &h.colorspace)))
    throw std::runtime_error(fmt::format("{}: corrupt JPEG ({})", path, tjGetErrorStr2(h.decoder.get())));
  return h;
}

ImageInfo jpeg_info(const std::string& bytes, const std::string& path) {
  const auto h = open_jpeg(bytes, path);
  return {h.width, h.height, h.colorspace == TJCS_GRAY ? 1 : h.cmyk() ? 4 : 3};
}

// [H, W, C] with C = 1 for a gray file read as gray, else RGB. CMYK files (Adobe's convention: inverted
// inks, as Photoshop writes them) become RGB as R = C·K/255 and so on, as stb_image and browsers show them.
// Files with hundreds of progressive scans are refused (a known way to make a small file decode for
// minutes).
torch::Tensor decode_jpeg(const std::string& bytes, const std::string& path, int64_t max_pixels, int64_t channels,
                          bool* gray) {
  auto h = open_jpeg(bytes, path);
  check_pixels(h.width, h.height, path, max_pixels);
  *gray = h.colorspace == TJCS_GRAY;
  const bool as_gray = *gray && channels == 1;
  const int format = as_gray ? TJPF_GRAY : h.cmyk() ? TJPF_CMYK : TJPF_RGB;
  auto hwc = torch::empty({h.height, h.width, as_gray ? 1 : h.cmyk() ? 4 : 3}, torch::kUInt8);
  if (tj_failed(h.decoder.get(), tjDecompress2(h.decoder.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                               static_cast<unsigned long>(bytes.size()), hwc.data_ptr<uint8_t>(),
                                               h.width, 0, h.height, format, TJFLAG_LIMITSCANS)))
    throw std::runtime_error(fmt::format("{}: corrupt JPEG ({})", path, tjGetErrorStr2(h.decoder.get())));
  if (!h.cmyk()) return hwc;
  const auto inks = hwc.to(torch::kInt32);
  return ((inks.narrow(2, 0, 3) * inks.narrow(2, 3, 1) + 127) / 255).to(torch::kUInt8);
}

ImageInfo info_of(const std::string& bytes, const std::string& path, int64_t max_pixels) {
  const ImageInfo info = format_of(bytes, path) == Format::png ? png_info(bytes, path) : jpeg_info(bytes, path);
  check_pixels(info.width, info.height, path, max_pixels);
  return info;
}

}  // namespace

torch::Tensor rgb_to_gray(const torch::Tensor& rgb, int64_t channel_dim) {
  TORCH_CHECK(rgb.size(channel_dim) == 3, "rgb_to_gray: expected 3 channels in dimension ", channel_dim);
  // In integers (weights in thousandths, rounded half up): 4 bytes a pixel of temporaries, not float's 12+.
  const auto c = rgb.to(torch::kInt32);
  auto luma = c.select(channel_dim, 0) * 299;
  luma.add_(c.select(channel_dim, 1), 587).add_(c.select(channel_dim, 2), 114).add_(500).div_(1000, "floor");
  return luma.to(torch::kUInt8).unsqueeze(channel_dim).contiguous();
}

ImageInfo read_image_info(const std::string& path, int64_t max_pixels) {
  return info_of(read_image_bytes(path), path, max_pixels);
}

torch::Tensor read_image(const std::string& path, int64_t channels, int64_t max_pixels) {
  TORCH_CHECK(channels == 1 || channels == 3, "read_image(", path, "): channels must be 1 or 3, got ", channels);
  const std::string bytes = read_image_bytes(path);
  bool gray = false;
  const auto hwc = format_of(bytes, path) == Format::png ? decode_png(bytes, path, max_pixels, &gray)
                                                         : decode_jpeg(bytes, path, max_pixels, channels, &gray);
  const auto chw = hwc.permute({2, 0, 1});
  if (channels == 3 || chw.size(0) == 1) return chw.contiguous();
  return gray ? chw.narrow(0, 0, 1).contiguous() : rgb_to_gray(chw, 0);
}

}  // namespace ddpm
