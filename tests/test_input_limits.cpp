// Sizes a file or flag states are checked against stated limits before anything is allocated, and a
// folder walk survives symlink loops.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/schedule.h"
#include "ddpm/data/data_spec.h"
#include "data_test_files.h"
#include "error_text.h"
#include "ddpm/io/image_io.h"

using namespace ddpm;
using ddpm_test::scratch_dir;

TEST(InputLimits, TimestepsAboveTheLimitAreRefusedBeforeTheTables) {
  ScheduleConfig c;
  c.timesteps = 200000000;  // once built the tables for minutes
  EXPECT_EQ(error_text([&] { make_schedule(c); }), "timesteps must be at most 100000, got 200000000");
  c.timesteps = kMaxTimesteps;
  EXPECT_EQ(make_schedule(c).T, kMaxTimesteps);
}

// A 492-byte mixture file of dimension 150 trained at 9.2 GB; the dimension is checked as the file is read.
TEST(InputLimits, MixtureDimensionAboveTheLimitIsRefused) {
  const auto path = scratch_dir("limits") + "/wide.json";
  std::string mean = "0";
  for (int i = 1; i < 150; ++i) mean += ",0";
  std::ofstream out(path);
  out << "{\"weights\": [1], \"means\": [[" << mean << "]], \"stds\": [1]}";
  out.close();
  const auto error = error_text([&] { load_mixture(path); });
  EXPECT_NE(error.find("dimension 150 is above the limit of 32"), std::string::npos) << error;
}

// A link to a parent folder is a loop: each real folder is walked once, and the images are found once.
TEST(InputLimits, FolderSymlinkLoopsAreWalkedOnce) {
  const auto dir = scratch_dir("loop");
  std::filesystem::create_directories(dir + "/sub");
  write_png(dir + "/a.png", torch::full({1, 4, 4}, 10, torch::kUInt8));
  write_png(dir + "/sub/b.png", torch::full({1, 4, 4}, 20, torch::kUInt8));
  std::filesystem::create_directory_symlink("..", dir + "/sub/up");
  std::filesystem::create_symlink("self", dir + "/self");  // a link to itself
  const auto d = load_dataset("folder:" + dir);
  EXPECT_EQ(d.images.size(0), 2);
}
