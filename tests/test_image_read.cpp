// The image decoders (io/image_read): PNG read back exactly (also 16-bit, alpha, palettes, 4-bit gray),
// JPEG within its loss (4:4:4, 4:2:0, progressive, gray, CMYK), files told apart by signature, the luma
// weights, truncated files, and the corrupt files the fuzzer found.
#include <gtest/gtest.h>
#include <spng.h>
#include <stb_image_write.h>
#include <torch/torch.h>
#include <turbojpeg.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ddpm/data/folder_reader.h"
#include "data_test_files.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/image_read.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

// A PNG of `width` x 2 pixels in the given colour type and bit depth, from samples in the file's own
// layout (16-bit samples in host order, as libspng takes them), through libspng's encoder.
void write_png_as(const std::string& path, int color_type, int bit_depth, uint32_t width, const std::vector<uint8_t>& samples,
                  const std::vector<std::array<uint8_t, 3>>& palette = {}) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  ASSERT_NE(ctx, nullptr);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = width;
  ihdr.height = 2;
  ihdr.color_type = static_cast<uint8_t>(color_type);
  ihdr.bit_depth = static_cast<uint8_t>(bit_depth);
  ASSERT_EQ(spng_set_ihdr(ctx, &ihdr), 0);
  if (!palette.empty()) {
    spng_plte plte{};
    plte.n_entries = static_cast<uint32_t>(palette.size());
    for (size_t i = 0; i < palette.size(); ++i) plte.entries[i] = {palette[i][0], palette[i][1], palette[i][2], 0};
    ASSERT_EQ(spng_set_plte(ctx, &plte), 0);
  }
  ASSERT_EQ(spng_encode_image(ctx, samples.data(), samples.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), 0);
  size_t size = 0;
  int rc = 0;
  void* png = spng_get_png_buffer(ctx, &size, &rc);
  ASSERT_EQ(rc, 0);
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(png), static_cast<std::streamsize>(size));
  free(png);
  spng_ctx_free(ctx);
}

// RGB through stb_image_write (an encoder independent of the decoder; it always writes three components).
void stb_write_jpeg(const std::string& path, const torch::Tensor& chw) {
  const auto hwc = chw.permute({1, 2, 0}).contiguous();
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), static_cast<int>(chw.size(2)), static_cast<int>(chw.size(1)),
                             static_cast<int>(chw.size(0)), hwc.data_ptr<uint8_t>(), 100));
}

// What stb cannot write, through TurboJPEG's encoder: one component (TJPF_GRAY), CMYK (TJPF_CMYK, stored
// as Adobe YCCK), 4:2:0 subsampling, progressive scans. `chw` holds the samples in the pixel format's order.
void write_tj_jpeg(const std::string& path, const torch::Tensor& chw, int pixel_format, int subsampling, int flags = 0) {
  tjhandle encoder = tjInitCompress();
  ASSERT_NE(encoder, nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const auto pixels = chw.permute({1, 2, 0}).contiguous();
  ASSERT_EQ(tjCompress2(encoder, pixels.data_ptr<uint8_t>(), static_cast<int>(chw.size(2)), 0,
                        static_cast<int>(chw.size(1)), pixel_format, &jpeg, &size, subsampling, 95, flags), 0)
      << tjGetErrorStr2(encoder);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(size));
  tjFree(jpeg);
  tjDestroy(encoder);
}

std::string error_reading(const std::string& path) {
  try {
    read_image(path, 3);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// A smooth RGB picture (JPEG's loss is small on it).
torch::Tensor gradient_image(int64_t h, int64_t w) {
  auto y = torch::arange(h, torch::kFloat32).view({1, h, 1}).expand({3, h, w});
  auto x = torch::arange(w, torch::kFloat32).view({1, 1, w}).expand({3, h, w});
  auto c = torch::tensor({1.0f, 2.0f, 0.5f}).view({3, 1, 1});
  return (40 + 4 * c * x + 3 * y).clamp(0, 255).to(torch::kUInt8);
}

}  // namespace

TEST(ImageRead, PngRoundTripIsExact) {
  const auto dir = scratch_dir("png");
  const auto rgb = torch::randint(0, 256, {3, 5, 7}, torch::kUInt8);
  const auto gray = torch::randint(0, 256, {1, 5, 7}, torch::kUInt8);
  write_png(dir + "/rgb.png", rgb);
  write_png(dir + "/gray.png", gray);
  EXPECT_TRUE(torch::equal(read_image(dir + "/rgb.png", 3), rgb));
  EXPECT_TRUE(torch::equal(read_image(dir + "/gray.png", 1), gray));
  EXPECT_TRUE(torch::equal(read_image(dir + "/gray.png", 3), gray.expand({3, 5, 7})));
  EXPECT_TRUE(torch::equal(read_image(dir + "/rgb.png", 1), rgb_to_gray(rgb, 0)));
  const auto info = read_image_info(dir + "/rgb.png");
  EXPECT_EQ(info.width, 7);
  EXPECT_EQ(info.height, 5);
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(read_image_info(dir + "/gray.png").channels, 1);
}

TEST(ImageRead, PngLayoutsReadAsStored) {
  const auto dir = scratch_dir("layouts");
  const std::vector<uint16_t> deep = {0x1234, 0xFF01, 0x0080, 0x8000};  // 2x2 gray, 16 bits
  std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(deep.data()),
                             reinterpret_cast<const uint8_t*>(deep.data()) + 8);
  write_png_as(dir + "/deep.png", SPNG_COLOR_TYPE_GRAYSCALE, 16, 2, bytes);
  EXPECT_TRUE(torch::equal(read_image(dir + "/deep.png", 1).flatten(),
                           torch::tensor({0x12, 0xFF, 0x00, 0x80}, torch::kUInt8)));
  // RGBA 1x2: the alpha (0 and 255) must not change the colour read.
  write_png_as(dir + "/rgba.png", SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 1, {10, 20, 30, 0, 40, 50, 60, 255});
  EXPECT_EQ(read_image_info(dir + "/rgba.png").channels, 4);
  EXPECT_TRUE(torch::equal(read_image(dir + "/rgba.png", 3).flatten(),
                           torch::tensor({10, 40, 20, 50, 30, 60}, torch::kUInt8)));
  // A 2-bit palette image, 2x2: indices 0 1 / 2 1 into three colours.
  write_png_as(dir + "/palette.png", SPNG_COLOR_TYPE_INDEXED, 2, 2, {0b00010000, 0b10010000},
               {{{255, 0, 0}}, {{0, 255, 0}}, {{0, 0, 255}}});
  EXPECT_TRUE(torch::equal(read_image(dir + "/palette.png", 3),
                           torch::tensor({255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 0}, torch::kUInt8)
                               .view({3, 2, 2})));
  // 4-bit gray, read as gray: 0..15 scaled to 0..255 (x17).
  write_png_as(dir + "/gray4.png", SPNG_COLOR_TYPE_GRAYSCALE, 4, 2, {0x0F, 0x73});
  EXPECT_TRUE(torch::equal(read_image(dir + "/gray4.png", 1).flatten(), torch::tensor({0, 255, 119, 51}, torch::kUInt8)));
}

TEST(ImageRead, JpegDecodesWithinItsLoss) {
  const auto dir = scratch_dir("jpeg");
  const auto rgb = gradient_image(16, 24);
  stb_write_jpeg(dir + "/rgb.jpg", rgb);
  write_tj_jpeg(dir + "/gray.jpg", rgb_to_gray(rgb, 0), TJPF_GRAY, TJSAMP_GRAY);
  const auto info = read_image_info(dir + "/rgb.jpg");
  EXPECT_EQ(info.width, 24);
  EXPECT_EQ(info.height, 16);
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(read_image_info(dir + "/gray.jpg").channels, 1);
  // Quality 100 (stb then writes 4:4:4) on a smooth picture: a few levels of error at most.
  const auto error = (read_image(dir + "/rgb.jpg", 3).to(torch::kFloat32) - rgb.to(torch::kFloat32)).abs();
  EXPECT_LT(error.mean().item<double>(), 2.0);
  EXPECT_LT(error.max().item<double>(), 16.0);
  const auto gray_error = (read_image(dir + "/gray.jpg", 1).to(torch::kFloat32) -
                           rgb_to_gray(rgb, 0).to(torch::kFloat32)).abs();
  EXPECT_LT(gray_error.max().item<double>(), 3.0);
  // The layouts cameras and web tools write: 4:2:0 chroma, baseline and progressive.
  for (int flags : {0, TJFLAG_PROGRESSIVE}) {
    write_tj_jpeg(dir + "/420.jpg", rgb, TJPF_RGB, TJSAMP_420, flags);
    const auto e = (read_image(dir + "/420.jpg", 3).to(torch::kFloat32) - rgb.to(torch::kFloat32)).abs();
    EXPECT_LT(e.mean().item<double>(), 3.0) << flags;
    EXPECT_LT(e.max().item<double>(), 24.0) << flags;
  }
}

// CMYK JPEGs (Adobe's inverted inks, as TurboJPEG and Photoshop write them) read as R = C·K/255, ...
TEST(ImageRead, CmykJpegBecomesRgb) {
  const auto dir = scratch_dir("cmyk");
  auto inks = torch::empty({4, 8, 8}, torch::kUInt8);
  inks[0].fill_(200);
  inks[1].fill_(100);
  inks[2].fill_(50);
  inks[3].fill_(128);
  write_tj_jpeg(dir + "/cmyk.jpg", inks, TJPF_CMYK, TJSAMP_444);
  EXPECT_EQ(read_image_info(dir + "/cmyk.jpg").channels, 4);
  const auto rgb = read_image(dir + "/cmyk.jpg", 3).to(torch::kFloat32);
  const auto expected = torch::tensor({200 * 128 / 255.0, 100 * 128 / 255.0, 50 * 128 / 255.0}).view({3, 1, 1});
  EXPECT_LT((rgb - expected).abs().max().item<double>(), 4.0) << rgb.mean({1, 2});
}

TEST(ImageRead, FormatComesFromTheSignatureNotTheName) {
  const auto dir = scratch_dir("sig");
  const auto rgb = torch::randint(0, 256, {3, 4, 4}, torch::kUInt8);
  write_png(dir + "/really-a-png.jpg", rgb);
  EXPECT_TRUE(torch::equal(read_image(dir + "/really-a-png.jpg", 3), rgb));
  write_raw(dir + "/gif.png", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0});
  EXPECT_NE(error_reading(dir + "/gif.png").find("not a PNG or JPEG file"), std::string::npos);
}

TEST(ImageRead, LumaWeightsAreBt601) {
  auto rgb = torch::zeros({3, 1, 3}, torch::kUInt8);
  rgb[0][0][0] = 200;  // pure red, green, blue
  rgb[1][0][1] = 200;
  rgb[2][0][2] = 200;
  EXPECT_TRUE(torch::equal(rgb_to_gray(rgb, 0).flatten(), torch::tensor({60, 117, 23}, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(rgb_to_gray(torch::full({3, 2, 2}, 77, torch::kUInt8), 0), torch::full({1, 2, 2}, 77, torch::kUInt8)));
}

TEST(ImageRead, TruncatedFilesAreRefusedHarmlessWarningsAreNot) {
  const auto dir = scratch_dir("cut");
  stb_write_jpeg(dir + "/a.jpg", gradient_image(16, 16));
  write_png(dir + "/a.png", torch::randint(0, 256, {3, 16, 16}, torch::kUInt8));
  for (const std::string name : {"a.jpg", "a.png"}) {
    std::filesystem::resize_file(dir + "/" + name, std::filesystem::file_size(dir + "/" + name) - 20);
    EXPECT_NE(error_reading(dir + "/" + name).find(dir + "/" + name + ": corrupt"), std::string::npos) << name;
  }
  // A harmless decoder warning (stray bytes before the end-of-image marker) does not refuse the file.
  stb_write_jpeg(dir + "/b.jpg", gradient_image(16, 16));
  std::ifstream in(dir + "/b.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.substr(bytes.size() - 2), "\xFF\xD9");
  bytes.insert(bytes.size() - 2, "\x12\x34");
  std::ofstream(dir + "/stray.jpg", std::ios::binary) << bytes;
  EXPECT_TRUE(torch::equal(read_image(dir + "/stray.jpg", 3), read_image(dir + "/b.jpg", 3)));
}

// Regressions from fuzz/fuzz_image_folder, found while the decoder was stb_image: Huffman tables that
// declare more than 256 codes (stb wrote past its table), whole or cut by the end of the file, and the
// same table after a doubled FF before the start-of-image marker (stb skipped it; it is no JPEG here).
TEST(ImageRead, CorruptJpegHuffmanTablesAreRefused) {
  const auto dir = scratch_dir("dht");
  std::vector<uint8_t> table = {0xFF, 0xC4, 0x00, 0x13, 0x00};  // DHT of 17 bytes: class/id, 16 code counts
  for (int k = 0; k < 14; ++k) table.push_back(0);
  table.push_back(200);
  table.push_back(100);  // 300 codes
  std::vector<uint8_t> bad = {0xFF, 0xD8};
  bad.insert(bad.end(), table.begin(), table.end());
  write_raw(dir + "/bad.jpg", bad);
  std::vector<uint8_t> cut = {0xFF, 0xD8, 0xFF, 0xC4, 0x01, 0xA2, 0x00};
  for (int k = 0; k < 16; ++k) cut.push_back(0);  // a first table with no codes
  for (uint8_t b : {0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0xB3, 0xB4}) cut.push_back(b);  // 368 codes, then EOF
  write_raw(dir + "/cut.jpg", cut);
  std::vector<uint8_t> doubled = {0xFF, 0xFF, 0xD8};
  doubled.insert(doubled.end(), table.begin(), table.end());
  write_raw(dir + "/doubled.jpg", doubled);
  for (const std::string name : {"bad.jpg", "cut.jpg", "doubled.jpg"}) {
    const auto path = dir + "/" + name;
    EXPECT_THROW(read_image_info(path), std::runtime_error) << name;
    EXPECT_NE(error_reading(path).find(path + ": "), std::string::npos) << name;
  }
  EXPECT_THROW(read_image_folder(dir, {}), std::runtime_error);
}
