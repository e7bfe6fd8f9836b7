// Every command that writes follows one output rule (io/output_path.h), checked before its work: never
// over the model it reads, never over an existing file or into a non-empty folder without --force, never
// to a path it cannot write. The file that was there is left byte for byte as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "ddpm/io/atomic_file.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(CliOutputs, SampleNeverWritesOverWhatItReads) {
  ddpm::test::TempDir dir;
  const auto model = dir.file("m.safetensors");
  ASSERT_EQ(run_cli("export --model fashion --out " + model).status, 0);
  const auto weights = ddpm::read_file_bytes(model);
  fs::create_symlink(model, dir.file("link.png"));
  // Two steps and one image: were a check missing, the test would fail fast instead of sampling for minutes.
  const std::string sample = "sample --model " + model + " --n 1 --steps 2 --force ";
  for (const auto& args : {"--out " + model, "--out " + dir.file("link.png"), "--out " + dir.file("x.png") +
                           " --save-tensors " + model, "--out " + dir.file("y.png") + " --trajectory " + dir.file("link.png")}) {
    const auto r = run_cli(sample + args, true);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_TRUE(contains(r.out, "is the input '")) << r.out;
  }
  EXPECT_EQ(ddpm::read_file_bytes(model), weights);
  EXPECT_FALSE(fs::exists(dir.file("x.png")));  // refused before any output was written
  // export, too, never over the weights it reads.
  fs::create_symlink(model, dir.file("alias.safetensors"));
  const auto r = run_cli("export --model " + model + " --out " + dir.file("alias.safetensors") + " --force", true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "is the input '")) << r.out;
  EXPECT_EQ(ddpm::read_file_bytes(model), weights);
}

TEST(CliOutputs, ExistingOutputsNeedForce) {
  ddpm::test::TempDir dir;
  const auto old = dir.file("old.png");
  ddpm::write_file_atomically(old, "precious");
  auto r = run_cli("sample --model fashion --n 1 --steps 2 --out " + old, true);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "error: '" + old + "' already exists; pass --force to replace it\n");
  EXPECT_EQ(ddpm::read_file_bytes(old), "precious");
  // classifier train: refused before it trains
  r = run_cli("classifier train --data fashion-mnist --epochs 1 --out " + dir.file("old.png"), true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "expected a name ending in .safetensors")) << r.out;
  ddpm::write_file_atomically(dir.file("c.safetensors"), "precious");
  r = run_cli("classifier train --data fashion-mnist --epochs 1 --out " + dir.file("c.safetensors"), true);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "already exists; pass --force")) << r.out;
  EXPECT_EQ(ddpm::read_file_bytes(dir.file("c.safetensors")), "precious");
  // gmm and demo: a folder that holds files
  fs::create_directories(dir.file("results"));
  ddpm::write_file_atomically(dir.file("results/report.json"), "precious");
  for (const std::string command : {"gmm --train-steps 0 --no-figures --n 100", "demo --no-gmm --grid 1 --ddim-steps 1 "
                                                                                "--ancestral-n 1 --ancestral-steps 1"}) {
    r = run_cli(command + " --out " + dir.file("results"), true);
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_TRUE(contains(r.out, "folder '" + dir.file("results") + "' is not empty; pass --force")) << r.out;
  }
  EXPECT_EQ(ddpm::read_file_bytes(dir.file("results/report.json")), "precious");
  EXPECT_EQ(run_cli("gmm --train-steps 0 --no-figures --n 100 --force --out " + dir.file("results")).status, 0);
  EXPECT_NE(ddpm::read_file_bytes(dir.file("results/report.json")), "precious");
}

// A path that cannot be written fails at once, not after the samples are drawn.
TEST(CliOutputs, UnwritablePathsFailBeforeSampling) {
  ddpm::test::TempDir dir;
  for (const auto& out : {dir.file("missing/x.png"), dir.file("x.bmp"), dir.path().string()}) {
    const auto r = run_cli("sample --model fashion --n 1 --steps 2 --out " + out, true);
    EXPECT_EQ(r.status, 1) << out;
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
    EXPECT_FALSE(contains(r.out, "sampling")) << r.out;  // the refusal came first
  }
}
