// Points CSV: a good file with a header, ragged rows, non-numbers, and an empty file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "ddpm/data/data_spec.h"
#include "ddpm/data/points_reader.h"
#include "data_test_files.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

std::string write_csv(const std::string& text) {
  const auto path = scratch_dir("csv") + "/p.csv";
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text) {
  try {
    read_points_csv(write_csv(text));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Points, GoodFileWithHeader) {
  const auto d = load_dataset("points:" + write_csv("x, y\n1.5, -2\n\n3e2,0.25\r\n"));
  ASSERT_FALSE(d.is_image());
  ASSERT_EQ(d.points.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(d.points, torch::tensor({1.5f, -2.0f, 300.0f, 0.25f}).view({2, 2})));
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{2}));
  // Points come back as stored, not rescaled.
  EXPECT_TRUE(torch::equal(d.batch(torch::tensor({1}, torch::kInt64)), d.points.slice(0, 1, 2)));
}

TEST(Points, GoodFileWithoutHeader) {
  EXPECT_EQ(read_points_csv(write_csv("1\n2\n3\n")).sizes(), (std::vector<int64_t>{3, 1}));
}

TEST(Points, RaggedRow) {
  EXPECT_NE(error_of("a,b\n1,2\n3,4,5\n").find(":3: 3 values, but earlier rows have 2"), std::string::npos);
}

TEST(Points, NonNumberNamesTheLine) {
  EXPECT_NE(error_of("1,2\n3,abc\n").find(":2: 'abc' is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("1,2\n3,nan\n").find("'nan'"), std::string::npos);
  EXPECT_NE(error_of("1,2\n3,\n").find(":2: ''"), std::string::npos);
}

TEST(Points, EmptyFile) {
  EXPECT_NE(error_of("").find("no data rows"), std::string::npos);
  EXPECT_NE(error_of("x,y\n").find("no data rows"), std::string::npos);
}
