// `ddpm edit` as a user runs it: each operation on images (the shipped model, at tiny settings) and on points,
// what it writes, and one clear error for each kind of bad input. The methods' correctness is proven on the
// exact mixture denoiser in test_editing.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "ddpm/io/image_read.h"
#include "temp_dir.h"

using ddpm::test::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A tiny point model (its quality does not matter here).
std::string point_model(const TempDir& dir) {
  const auto run = dir.file("points-run");
  EXPECT_EQ(run_cli("train --data gmm:two-modes --steps 20 --out " + run).status, 0);
  return run;
}

}  // namespace

TEST(CliEdit, PointsInpaintKeepsTheKnownColumn) {
  TempDir dir;
  const auto model = point_model(dir);
  write_text(dir.file("in.csv"), "0,0.25\n0,-0.5\n");
  write_text(dir.file("keep.csv"), "0,1\n");
  const auto r = run_cli("edit inpaint --model " + model + " --input " + dir.file("in.csv") + " --mask " + dir.file("keep.csv") +
                             " --n 3 --steps 10 --jump-length 2 --jump-n-sample 2 --out " + dir.file("out.csv"),
                         true);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = lines_of(dir.file("out.csv"));
  ASSERT_EQ(rows.size(), 6u);  // 3 results per input row, in order
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rows[i].substr(rows[i].find(',') + 1), i < 3 ? "0.25" : "-0.5") << rows[i];
  // A mask that is not 0/1, or of the wrong width, is refused naming the file.
  write_text(dir.file("bad.csv"), "0.5,1\n");
  auto bad = run_cli("edit inpaint --model " + model + " --input " + dir.file("in.csv") + " --mask " + dir.file("bad.csv") + " --out " +
                         dir.file("o2.csv"), true);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("bad.csv"), std::string::npos) << bad.out;
  write_text(dir.file("wide.csv"), "0,1,1\n");
  bad = run_cli("edit inpaint --model " + model + " --input " + dir.file("in.csv") + " --mask " + dir.file("wide.csv") + " --out " +
                    dir.file("o2.csv"), true);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("wide.csv"), std::string::npos) << bad.out;
}

TEST(CliEdit, PointsImg2imgInvertAndInterpolate) {
  TempDir dir;
  const auto model = point_model(dir);
  write_text(dir.file("in.csv"), "x,y\n-2,0\n2,0.1\n");
  auto r = run_cli("edit img2img --model " + model + " --input " + dir.file("in.csv") + " --strength 0.3 --n 2 --steps 10 --out " +
                   dir.file("img2img.csv"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(lines_of(dir.file("img2img.csv")).size(), 4u);
  r = run_cli("edit invert --model " + model + " --input " + dir.file("in.csv") + " --steps 20 --out " + dir.file("back.csv") +
              " --latents " + dir.file("latents.safetensors"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("reconstruction error: RMSE"), std::string::npos) << r.out;
  EXPECT_EQ(lines_of(dir.file("back.csv")).size(), 2u);
  write_text(dir.file("a.csv"), "-2,0\n");
  write_text(dir.file("b.csv"), "2,0\n");
  r = run_cli("edit interpolate --model " + model + " --input " + dir.file("a.csv") + " --input " + dir.file("b.csv") +
              " --frames 5 --steps 10 --out " + dir.file("frames.csv"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(lines_of(dir.file("frames.csv")).size(), 5u);
  // Two-row inputs cannot be the ends of one interpolation.
  r = run_cli("edit interpolate --model " + model + " --input " + dir.file("in.csv") + " --input " + dir.file("b.csv") +
              " --out " + dir.file("f2.csv"), true);
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST(CliEdit, ImagesOnTheShippedModel) {
  TempDir dir;
  const auto input = dir.file("input.png");
  ASSERT_EQ(run_cli("sample --model fashion --n 1 --sampler ddim --steps 3 --out " + input).status, 0);
  EXPECT_EQ(ddpm::read_image_info(input).width, 56);  // one image, x2, without the grid's padding
  auto r = run_cli("edit inpaint --model fashion --input " + input + " --rect 0,14,28,14 --n 2 --steps 4 --jump-length 2 "
                   "--jump-n-sample 2 --out " + dir.file("inpaint.png"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("edit img2img --model fashion --input " + input + " --strength 0.5 --n 2 --steps 4 --out " + dir.file("img2img.png"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("edit invert --model fashion --input " + input + " --steps 4 --out " + dir.file("back.png"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("edit interpolate --model fashion --seeds 1,2 --frames 3 --steps 3 --out " + dir.file("noise.png"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  // A conditional model takes a class; the unconditional one refuses it.
  r = run_cli("edit img2img --model fashion-classes --class Sneaker --guidance 1 --input " + input +
              " --strength 0.5 --n 1 --steps 3 --out " + dir.file("sneaker.png"), true);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("edit img2img --model fashion --class Sneaker --input " + input + " --steps 3 --out " + dir.file("x.png"), true);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("class"), std::string::npos) << r.out;
}

TEST(CliEdit, BadInputsGetOneClearError) {
  TempDir dir;
  const auto input = dir.file("input.png");
  ASSERT_EQ(run_cli("sample --model fashion --n 1 --sampler ddim --steps 2 --out " + input).status, 0);
  const std::string base = "edit inpaint --model fashion --steps 2 --jump-length 1 --jump-n-sample 1 ";
  struct Case {
    std::string args, expected;
    int status;
  };
  const Case cases[] = {
      {base + "--input " + dir.file("missing.png") + " --rect 0,0,4,4 --out " + dir.file("o.png"), "missing.png", 1},
      {base + "--input " + input + " --out " + dir.file("o.png"), "--mask", 2},  // neither mask nor rect
      {base + "--input " + input + " --rect 40,40,4,4 --out " + dir.file("o.png"), "leaves nothing to fill", 1},
      {base + "--input " + input + " --rect 0,0,4 --out " + dir.file("o.png"), "--rect", 2},
      {base + "--input " + input + " --rect 0,0,4,4 --out " + input + " --force", "input.png", 1},  // never over an input
      {"edit img2img --model fashion --input " + input + " --strength 0 --out " + dir.file("o.png"), "--strength", 2},
      {"edit interpolate --model fashion --input " + input + " --out " + dir.file("o.png"), "two inputs", 2},
      {"edit interpolate --model fashion --seeds 1,2 --frames 1 --out " + dir.file("o.png"), "--frames", 2},
      {"edit invert --model fashion --input " + input + " --out " + dir.file("o.csv"), "o.csv", 1},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args, true);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.args << "\n" << r.out;
    if (c.status == 1) EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;  // 2: usage + help hint
  }
}
