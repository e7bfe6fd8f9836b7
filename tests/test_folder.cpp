// Folder reader on PNG trees built here: equal and mixed sizes, centered crop, corrupt and oversized
// files, empty folders, channel choice.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "ddpm/data/data_spec.h"
#include "ddpm/data/folder_reader.h"
#include "data_test_files.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/remedy.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

std::string error_of(const std::string& dir, const FolderOptions& o = {}) {
  try {
    read_image_folder(dir, o);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Folder, EqualSizesLoadInSortedOrderRecursively) {
  const auto dir = scratch_dir("f");
  std::filesystem::create_directories(dir + "/sub");
  write_png(dir + "/b.png", torch::full({3, 4, 5}, 20, torch::kUInt8));
  write_png(dir + "/a.PNG", torch::full({3, 4, 5}, 10, torch::kUInt8));
  write_png(dir + "/sub/c.png", torch::full({3, 4, 5}, 30, torch::kUInt8));
  std::ofstream(dir + "/notes.txt") << "not an image";
  const auto d = load_dataset("folder:" + dir);
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{3, 3, 4, 5}));
  EXPECT_EQ(d.images[0].max().item<int>(), 10);
  EXPECT_EQ(d.images[1].max().item<int>(), 20);
  EXPECT_EQ(d.images[2].max().item<int>(), 30);
  EXPECT_FALSE(d.labels.defined());
}

TEST(Folder, MixedSizesNeedImageSize) {
  const auto dir = scratch_dir("f");
  write_png(dir + "/a.png", torch::full({1, 8, 8}, 50, torch::kUInt8));
  write_png(dir + "/b.png", torch::full({1, 6, 10}, 90, torch::kUInt8));
  try {
    read_image_folder(dir, {});
    ADD_FAILURE() << "images of two sizes were read without an image size";
  } catch (const ActionableError& e) {
    EXPECT_EQ(e.remedy(), Remedy::choose_image_size);
    EXPECT_NE(e.problem().find("different sizes"), std::string::npos) << e.problem();
  }
  FolderOptions o;
  o.image_size = 4;
  const auto r = read_image_folder(dir, o);
  ASSERT_EQ(r.images.sizes(), (std::vector<int64_t>{2, 1, 4, 4}));  // all gray -> 1 channel
  EXPECT_TRUE(torch::all(r.images[1] == 90).item<bool>());         // a constant image stays constant
}

TEST(Folder, CropIsCentered) {
  // 10 wide x 4 high; columns 3..6 (the centre 4x4) are white, the rest black. With image_size 4 the
  // shorter side is already 4, so no resampling: the crop must be exactly the white square.
  auto img = torch::zeros({1, 4, 10}, torch::kUInt8);
  img.slice(2, 3, 7).fill_(255);
  const auto crop = resize_center_crop(img, 4);
  EXPECT_TRUE(torch::all(crop == 255).item<bool>());
  // Tall image 20 x 8 with the centre 8x8 (rows 6..13) white, shrunk to 4: rows become 10 after resizing
  // and the white band maps to rows [3, 7), exactly the crop. A centered crop of a picture symmetric
  // about its centre is itself symmetric; an off-by-one crop would not be.
  auto tall = torch::zeros({3, 20, 8}, torch::kUInt8);
  tall.slice(1, 6, 14).fill_(255);
  const auto small = resize_center_crop(tall, 4);
  ASSERT_EQ(small.sizes(), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_GT(small.to(torch::kFloat32).mean().item<double>(), 200.0);  // edges are filtered, the bulk is white
  EXPECT_TRUE(torch::equal(small, small.flip({1})));
}

TEST(Folder, CorruptFileIsSkippedAndCounted) {
  const auto dir = scratch_dir("f");
  for (int i = 0; i < 4; ++i) write_png(dir + "/" + std::to_string(i) + ".png", torch::full({3, 5, 5}, i, torch::kUInt8));
  std::ofstream(dir + "/broken.jpg") << "definitely not a jpeg";
  // A PNG whose header is intact but whose data is cut: passes the header pass, fails decoding.
  write_png(dir + "/cut.png", torch::randint(0, 256, {3, 5, 5}, torch::kUInt8));
  std::filesystem::resize_file(dir + "/cut.png", 50);  // 8-byte signature + 25-byte IHDR + part of IDAT
  testing::internal::CaptureStderr();
  const auto r = read_image_folder(dir, {});
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.skipped, 2);
  EXPECT_EQ(r.images.size(0), 4);
  EXPECT_EQ(r.images[3].max().item<int>(), 3);
  EXPECT_NE(err.find("skipped 2 of 6"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one warning line: " << err;
}

TEST(Folder, EmptyOrAllUnreadableIsAnError) {
  const auto dir = scratch_dir("f");
  EXPECT_NE(error_of(dir).find("no PNG or JPEG images"), std::string::npos);
  std::ofstream(dir + "/x.png") << "junk";
  EXPECT_NE(error_of(dir).find("none of the 1 image files is readable"), std::string::npos);
  EXPECT_NE(error_of(dir + "/missing").find("no such directory"), std::string::npos);
}

TEST(Folder, PixelCapRejectsLargeImages) {
  const auto dir = scratch_dir("f");
  write_png(dir + "/big.png", torch::zeros({1, 40, 30}, torch::kUInt8));
  try {
    read_image_info(dir + "/big.png", 1000);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("30x40 pixels exceeds the limit of 1000"), std::string::npos) << e.what();
  }
  write_png(dir + "/ok.png", torch::zeros({1, 30, 30}, torch::kUInt8));
  FolderOptions o;
  o.max_pixels = 1000;
  o.image_size = 8;
  testing::internal::CaptureStderr();
  const auto r = read_image_folder(dir, o);
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.images.size(0), 1);
}

TEST(Folder, ChannelChoice) {
  const auto dir = scratch_dir("f");
  auto rgb = torch::zeros({3, 2, 2}, torch::kUInt8);
  rgb[0].fill_(200);  // pure red
  write_png(dir + "/a.png", rgb);
  write_png(dir + "/b.png", torch::full({1, 2, 2}, 7, torch::kUInt8));
  EXPECT_EQ(read_image_folder(dir, {}).images.size(1), 3);  // any colour image -> RGB
  FolderOptions o;
  o.channels = 1;
  const auto gray = read_image_folder(dir, o).images;
  ASSERT_EQ(gray.size(1), 1);
  EXPECT_NEAR(gray[0].max().item<int>(), 0.299 * 200, 1.5);  // BT.601 luma (rgb_to_gray)
  EXPECT_EQ(gray[1].max().item<int>(), 7);
}

// DIR/CLASS/image labels the images by their sub-folders; sub-folders that cannot be class names (numbered
// shards whose numbers are not their positions, a folder called none) are a layout: no labels, and the images
// load as before.
TEST(Folder, SubFoldersAreClassesWhenTheyCanBe) {
  const auto dir = scratch_dir("classes");
  for (const char* sub : {"cat", "dog"}) std::filesystem::create_directories(dir + "/" + sub);
  write_png(dir + "/dog/a.png", torch::full({1, 4, 4}, 1, torch::kUInt8));
  write_png(dir + "/cat/b.png", torch::full({1, 4, 4}, 2, torch::kUInt8));
  write_png(dir + "/cat/c.png", torch::full({1, 4, 4}, 3, torch::kUInt8));
  const auto d = load_dataset("folder:" + dir);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 0, 1}, torch::kLong)));  // cat/b, cat/c, dog/a

  const auto shards = scratch_dir("shards");
  for (const char* sub : {"00000", "01000"}) {
    std::filesystem::create_directories(shards + "/" + sub);
    write_png(shards + "/" + sub + "/x.png", torch::full({1, 4, 4}, 5, torch::kUInt8));
  }
  const auto s = load_dataset("folder:" + shards);
  EXPECT_EQ(s.size(), 2);
  EXPECT_FALSE(s.labels.defined());
  EXPECT_TRUE(s.class_names.empty());
}
