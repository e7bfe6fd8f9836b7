// `ddpm eval` and `ddpm classifier` as a user runs them: bad input, and small runs of both metrics on the
// shipped model whose JSON must be self-consistent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "cli_runner.h"
#include "ddpm/io/image_io.h"
#include "temp_dir.h"

namespace {

// One thread each: these tests run beside others under ctest -j.
CliResult run_cli_1t(const std::string& args, bool merge_stderr = false) {
  return run_cli("--threads 1 " + args, merge_stderr);
}

void expect_one_error_line(const CliResult& r, const std::string& fragment) {
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_NE(r.out.find(fragment), std::string::npos) << r.out;
}

}  // namespace

TEST(EvalCli, BadInput) {
  EXPECT_EQ(run_cli_1t("eval --model fashion --metric bogus").status, 2);  // unknown metric: usage error
  EXPECT_EQ(run_cli_1t("eval --model fashion").status, 2);                 // --metric is required
  EXPECT_EQ(run_cli_1t("classifier").status, 2);                           // classifier needs `train`
  expect_one_error_line(run_cli_1t("eval --model no-such-model --metric nll", true), "no-such-model");
  expect_one_error_line(run_cli_1t("eval --model fashion --metric fid --n 6000", true), "half the test set");
  expect_one_error_line(run_cli_1t("eval --model fashion --metric nll --data gmm:two-modes", true), "point data");
  expect_one_error_line(run_cli_1t("eval --model fashion --metric fid --n 8 --features /nonexistent.pt", true),
                        "/nonexistent.pt");
}

// A folder of mixed sizes is evaluated at the size asked for (as `train --image-size` trains on it); without
// it, one error line.
TEST(EvalCli, FolderOfMixedSizesWithImageSize) {
  ddpm::test::TempDir dir;
  ddpm::write_png(dir.file("a.png"), torch::full({1, 28, 28}, 30, torch::kUInt8));
  ddpm::write_png(dir.file("b.png"), torch::full({1, 40, 34}, 200, torch::kUInt8));
  const std::string data = " --data folder:" + dir.path().string();
  auto r = run_cli_1t("eval --model fashion --metric nll --n 2 --timesteps 2 --variance beta --json --image-size 28" +
                      data);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["n"], 2);
  // The library's remedy in the tool's words.
  expect_one_error_line(run_cli_1t("eval --model fashion --metric nll --n 2 --timesteps 2" + data, true),
                        "b.png is 34x40); pass --image-size to resize and center-crop them");
}

// --variance fitted measures the network's x_0 error on training examples at all T steps first: one example
// here, so T more evaluations, and a decoder σ_1 from its own search.
TEST(EvalCli, NllWithFittedVariance) {
  auto r = run_cli_1t(
      "eval --model fashion --metric nll --n 2 --timesteps 2 --bands 1 --variance fitted --fit-n 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["variance"], "fitted");
  EXPECT_EQ(j["network_evaluations"], 1000 + 2 * 3);
  EXPECT_EQ(j["fit"]["training_examples"], 1);
  const double sigma = j["fit"]["decoder_sigma"].get<double>();
  EXPECT_GT(sigma, 1e-4);
  EXPECT_LT(sigma, 1.0);
  EXPECT_GT(j["bits_per_dim"].get<double>(), 0.0);
  // A flag that does not apply is a usage error (status 2), named, before any work.
  for (const char* args : {"--metric nll --variance beta --fit-n 4", "--metric fid --fit-n 4"}) {
    auto bad = run_cli_1t(std::string("eval --model fashion ") + args, true);
    EXPECT_EQ(bad.status, 2) << bad.out;
    EXPECT_NE(bad.out.find("--fit-n: applies to --metric nll with --variance fitted"), std::string::npos) << bad.out;
  }
}

TEST(EvalCli, NllJsonAddsUp) {
  auto r = run_cli_1t("eval --model fashion --metric nll --n 3 --timesteps 2 --bands 1 --variance beta --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["timesteps"], 2);
  EXPECT_EQ(j["exact"], false);
  EXPECT_EQ(j["network_evaluations"], 3 * 3);
  ASSERT_EQ(j["terms"].size(), 1u);
  EXPECT_EQ(j["terms"][0]["t_first"], 2);
  EXPECT_EQ(j["terms"][0]["t_last"], 1000);
  const double sum = j["prior_bits_per_dim"].get<double>() + j["decoder_bits_per_dim"].get<double>() +
                     j["terms"][0]["bits_per_dim"].get<double>();
  EXPECT_NEAR(j["bits_per_dim"].get<double>(), sum, 1e-9);
  // Two strata and one draw each: unbiased but noisy, so only the sign is certain.
  EXPECT_GT(j["bits_per_dim"].get<double>(), 0.0);
}

TEST(EvalCli, FidJsonWithReferences) {
  auto r = run_cli_1t("eval --model fashion --metric fid --n 12 --steps 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_samples"], 12);
  EXPECT_EQ(j["sampler"]["kind"], "ddim");
  EXPECT_EQ(j["sampler"]["steps"], 2);
  for (const char* key : {"fid", "precision", "recall", "reference_floor", "noise_ceiling"})
    EXPECT_TRUE(j[key].is_number()) << key;
  EXPECT_LT(j["reference_floor"].get<double>(), j["noise_ceiling"].get<double>());
  int64_t total = 0;
  for (const auto& [name, count] : j["class_histogram"].items()) total += count.get<int64_t>();
  EXPECT_EQ(total, 12);
  EXPECT_EQ(j["class_histogram"].size(), 10u);
}

// Without sampler flags, FID is measured with the documented fast sampler: DDIM, η = 0, 50 steps.
TEST(EvalCli, FidSamplesWithDdimIn50StepsByDefault) {
  auto r = run_cli_1t("eval --model fashion --metric fid --n 4 --k 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sampler"]["kind"], "ddim");
  EXPECT_EQ(j["sampler"]["steps"], 50);
  EXPECT_EQ(j["sampler"]["eta"], 0.0);
}

TEST(EvalCli, FidWithATorchScriptFeatureNetwork) {
  ddpm::test::TempDir dir;
  torch::jit::Module module("pixels");
  module.define("def forward(self, x):\n  return x.flatten(1)\n");
  module.save(dir.file("pixels.pt"));
  auto r = run_cli_1t("eval --model fashion --metric fid --n 10 --steps 2 --json --features " + dir.file("pixels.pt"));
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j["features"].get<std::string>().find("pixels.pt"), std::string::npos);
  EXPECT_FALSE(j.contains("class_histogram"));  // only ddpm's classifier names classes
  EXPECT_LT(j["reference_floor"].get<double>(), j["noise_ceiling"].get<double>());
}
