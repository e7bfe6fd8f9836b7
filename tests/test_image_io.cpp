// PNG and JPEG writing (read back with stb_image itself), grid layout, nearest upscaling, write errors.
#include <gtest/gtest.h>
#include <stb_image.h>
#include <torch/torch.h>

#include "ddpm/core/random.h"
#include "data_test_files.h"
#include "file_size_limit.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/io/image_io.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

// Reads a PNG with stb_image as stored; returns uint8 [C, H, W].
torch::Tensor load_png(const std::string& path) {
  int w = 0, h = 0, c = 0;
  uint8_t* data = stbi_load(path.c_str(), &w, &h, &c, 0);
  if (!data) return {};
  auto t = torch::from_blob(data, {h, w, c}, torch::kUInt8).permute({2, 0, 1}).clone();
  stbi_image_free(data);
  return t;
}

}  // namespace

TEST(ImageIo, PngRoundTripGrayAndRgb) {
  const auto dir = scratch_dir("png");
  auto gen = make_generator(3);
  const auto rgb = torch::randint(0, 256, {3, 5, 7}, gen, torch::kUInt8);
  write_png(dir + "/rgb.png", rgb);
  EXPECT_TRUE(torch::equal(load_png(dir + "/rgb.png"), rgb));
  const auto gray = torch::randint(0, 256, {6, 4}, gen, torch::kUInt8);
  write_png(dir + "/gray.png", gray);
  const auto back = load_png(dir + "/gray.png");
  ASSERT_EQ(back.size(0), 1);  // stays single-channel
  EXPECT_TRUE(torch::equal(back[0], gray));
}

TEST(ImageIo, UnwritablePathIsAClearError) {
  try {
    write_png("/nonexistent-dir/x.png", torch::zeros({1, 2, 2}, torch::kUInt8));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.png: No such file or directory"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(write_png("/tmp/x.png", torch::zeros({2, 2, 2}, torch::kUInt8)), c10::Error);  // 2 channels
  EXPECT_THROW(write_png("/tmp/x.png", torch::zeros({1, 2, 2})), c10::Error);                 // float
}

// A full disk while a picture is written: an error naming the file, and the picture that was there is
// kept whole (the sample grids of training and `ddpm sample` are written this way).
TEST(ImageIo, FailedWriteKeepsThePreviousPicture) {
  const auto path = scratch_dir("full") + "/grid.png";
  write_png(path, torch::zeros({1, 4, 4}, torch::kUInt8));
  const auto before = read_file_bytes(path);
  auto gen = make_generator(5);
  const auto noise = torch::randint(0, 256, {3, 96, 96}, gen, torch::kUInt8);  // ~27 KB even compressed
  {
    test::FileSizeLimit full(4096);
    try {
      write_png(path, noise);
      ADD_FAILURE() << "a failed write went unnoticed";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(read_file_bytes(path), before);
}

TEST(ImageIo, GridLayout) {
  // 5 gray 2x3 images, image k filled with value v_k; 3 per row, padding 1 -> 2 rows.
  const std::vector<float> values = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f};
  auto images = torch::empty({5, 1, 2, 3});
  for (int k = 0; k < 5; ++k) images[k].fill_(values[k]);
  const auto grid = make_grid(images, 3, 1);
  ASSERT_EQ(grid.sizes(), (std::vector<int64_t>{1, 2 * 3 + 1, 3 * 4 + 1}));
  ASSERT_EQ(grid.scalar_type(), torch::kUInt8);
  // round((v + 1) * 127.5): -1 -> 0, -0.5 -> 64 (63.75), 0 -> 128 (127.5 rounds half to even), 0.5 -> 191, 1 -> 255.
  const int expected[] = {0, 64, 128, 191, 255};
  for (int k = 0; k < 5; ++k) {
    const int64_t y = 1 + (k / 3) * 3, x = 1 + (k % 3) * 4;
    EXPECT_TRUE(torch::all(grid.slice(1, y, y + 2).slice(2, x, x + 3) == expected[k]).item<bool>()) << k;
  }
  // Padding and the empty sixth cell stay black.
  EXPECT_EQ(grid[0][0].sum().item<int64_t>(), 0);
  EXPECT_EQ(grid[0].select(1, 0).sum().item<int64_t>(), 0);
  EXPECT_EQ(grid.slice(1, 4, 6).slice(2, 9, 12).sum().item<int64_t>(), 0);
  // Out-of-range values are clipped, not wrapped.
  EXPECT_EQ(make_grid(torch::full({1, 3, 1, 1}, 7.0f), 1, 0).min().item<int>(), 255);
}

TEST(ImageIo, UpscaleNearestAndSaveGrid) {
  const auto img = torch::tensor({1, 2, 3, 4}, torch::kUInt8).view({1, 2, 2});
  const auto big = upscale_nearest(img, 3);
  ASSERT_EQ(big.sizes(), (std::vector<int64_t>{1, 6, 6}));
  EXPECT_EQ(big[0][2][2].item<int>(), 1);
  EXPECT_EQ(big[0][2][3].item<int>(), 2);
  EXPECT_EQ(big[0][5][0].item<int>(), 3);
  const auto dir = scratch_dir("png");
  save_image_grid(dir + "/g.png", torch::zeros({4, 3, 8, 8}), 2, 2, 2);
  const auto back = load_png(dir + "/g.png");
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{3, 2 * (2 * 10 + 2), 2 * (2 * 10 + 2)}));
}

// The output format follows the extension: JPEG through libjpeg-turbo for .jpg/.jpeg (any case), PNG for
// .png, and anything else refused before any work, naming the path.
TEST(ImageIo, FormatFromTheExtension) {
  EXPECT_EQ(image_format_for("a/b.png"), ImageFormat::Png);
  EXPECT_EQ(image_format_for("b.PNG"), ImageFormat::Png);
  EXPECT_EQ(image_format_for("b.jpg"), ImageFormat::Jpeg);
  EXPECT_EQ(image_format_for("b.JPeG"), ImageFormat::Jpeg);
  for (const std::string bad : {"x.bmp", "x", "x.png.txt", "dir.png/"}) {
    try {
      image_format_for(bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(bad + ": images are written as .png or .jpg/.jpeg", 0), 0u) << e.what();
    }
  }
}

// JPEG bytes under a .jpg name (not PNG bytes, as before), gray kept gray, and the pixels back within
// JPEG's loss at quality 95 on a smooth image (read with stb_image, a decoder independent of the encoder).
TEST(ImageIo, JpegRoundTripGrayAndRgb) {
  const auto dir = scratch_dir("jpeg");
  const auto ramp = torch::arange(0, 48, torch::kInt32);
  const auto rgb = torch::stack({(ramp.view({1, -1}) * 5 + ramp.view({-1, 1}) * 0).clamp(0, 255),
                                 (ramp.view({-1, 1}) * 4 + ramp.view({1, -1})).clamp(0, 255),
                                 torch::full({48, 48}, 100, torch::kInt32)})
                       .to(torch::kUInt8);
  save_image_grid(dir + "/grid.JPG", rgb.unsqueeze(0).to(torch::kFloat32) / 127.5 - 1, 1, 0, 1);
  write_image(dir + "/gray.jpeg", rgb[1]);
  std::ifstream in(dir + "/grid.JPG", std::ios::binary);
  unsigned char magic[3] = {};
  in.read(reinterpret_cast<char*>(magic), 3);
  EXPECT_EQ(magic[0], 0xFF);
  EXPECT_EQ(magic[1], 0xD8);
  EXPECT_EQ(magic[2], 0xFF);
  const auto back = load_png(dir + "/grid.JPG");  // stb_image reads JPEG too
  ASSERT_EQ(back.sizes(), rgb.sizes());
  EXPECT_LT((back.to(torch::kFloat32) - rgb.to(torch::kFloat32)).abs().mean().item<float>(), 2.0f);
  const auto gray = load_png(dir + "/gray.jpeg");
  ASSERT_EQ(gray.size(0), 1);
  EXPECT_LT((gray[0].to(torch::kFloat32) - rgb[1].to(torch::kFloat32)).abs().mean().item<float>(), 2.0f);
  EXPECT_THROW(write_jpeg(dir + "/alpha.jpg", torch::zeros({4, 2, 2}, torch::kUInt8)), c10::Error);  // no alpha
  EXPECT_THROW(write_image(dir + "/x.gif", rgb), std::invalid_argument);
  EXPECT_FALSE(std::ifstream(dir + "/x.gif").good());
}
