// Model files are believed only as far as their tensors bear out: dtype, finiteness and the size the
// metadata declares are checked before a network is built; a network whose prediction is not finite
// stops sampling with an error instead of writing a black image.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_file.h"
#include "ddpm/models/model_size.h"
#include "error_text.h"
#include "temp_dir.h"
#include "ddpm/inference/generate.h"
#include "ddpm/models/memory_budget.h"
#include "ddpm/inference/trained_model.h"

using namespace ddpm;

namespace {

// A small U-Net (the fashion preset's design, 8 channels on 8x8 images).
ModelConfig small_unet() {
  ModelConfig c = model_preset("fashion");
  c.unet.image_height = c.unet.image_width = 8, c.unet.base_channels = 8, c.unet.norm_groups = 4;
  c.unet.channel_mult = {1, 2}, c.unet.attention_resolutions = {4};
  return c;
}

// A saved mlp-2d model, and its content to corrupt.
std::string saved_mlp(const test::TempDir& dir, SafetensorsContent* content) {
  const auto path = dir.file("mlp.safetensors");
  const auto config = model_preset("mlp-2d");
  torch::manual_seed(0);
  save_model(path, *build_model(config), config);
  *content = read_safetensors(path);
  return path;
}

}  // namespace

// F32 -> I32 is a one-byte header edit with the same byte count: it must not load as other numbers.
TEST(ModelChecks, WeightsOfAnotherDtypeAreRefused) {
  test::TempDir dir;
  SafetensorsContent content;
  const auto path = saved_mlp(dir, &content);
  auto& [name, tensor] = content.tensors.front();
  tensor = tensor.view(torch::kInt32);  // the same bytes, read as integers
  write_safetensors(path, content);
  const auto error = error_text([&] { load_model(path); });
  EXPECT_NE(error.find("\"" + name + "\" is Int, the model expects Float"), std::string::npos) << error;
}

TEST(ModelChecks, NonFiniteWeightsAreRefusedNamingTheTensor) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    test::TempDir dir;
    SafetensorsContent content;
    const auto path = saved_mlp(dir, &content);
    auto& [name, tensor] = content.tensors.back();
    tensor.view(-1)[3] = bad;
    write_safetensors(path, content);
    const auto error = error_text([&] { load_model(path); });
    EXPECT_NE(error.find("\"" + name + "\" holds NaN or infinite values"), std::string::npos) << error;
  }
}

// The metadata is the file's claim; a size edited there is refused before the network is built.
TEST(ModelChecks, DeclaredSizeMustMatchTheFilesTensors) {
  test::TempDir dir;
  const auto path = dir.file("unet.safetensors");
  auto config = small_unet();
  save_model(path, *build_model(config), config);
  auto content = read_safetensors(path);
  auto declared = nlohmann::json::parse(content.metadata.at(kModelConfigKey));
  declared["unet"]["num_res_blocks"] = 40;  // within the limits, but ~40x the parameters the file holds
  content.metadata[kModelConfigKey] = declared.dump();
  write_safetensors(path, content);
  auto error = error_text([&] { load_model(path); });
  EXPECT_NE(error.find("describes a network of"), std::string::npos) << error;

  declared["unet"]["num_res_blocks"] = 1000000000;  // beyond the stated limit: refused before any count
  content.metadata[kModelConfigKey] = declared.dump();
  write_safetensors(path, content);
  error = error_text([&] { load_model(path); });
  EXPECT_NE(error.find("num_res_blocks must be from 1 to 64"), std::string::npos) << error;
}

TEST(ModelSize, PlannedCountMatchesTheBuiltNetwork) {
  std::vector<ModelConfig> configs = {model_preset("fashion"), model_preset("cifar10"), model_preset("mlp-2d"),
                                      small_unet()};
  auto variant = small_unet();
  variant.unet.in_channels = 3, variant.unet.num_res_blocks = 3, variant.unet.mid_attention = false;
  variant.unet.channel_mult = {1, 2, 3}, variant.unet.attention_resolutions = {8, 2};
  configs.push_back(variant);
  for (const auto& config : configs)
    EXPECT_EQ(planned_parameter_count(config), parameter_count(*build_model(config))) << nlohmann::json(config).dump();
}

// The estimate that refuses a batch: celebahq256 with a million images cannot fit any machine here;
// one fashion image fits every one.
TEST(ModelSize, BatchesBeyondTheMachinesMemoryAreRefused) {
  ASSERT_GT(physical_memory_bytes(), 0);
  const auto error = error_text([] {
    check_batch_fits(model_preset("celebahq256"), 1 << 20, true, torch::kCPU, "lower the batch size");
  });
  EXPECT_NE(error.find("training needs about"), std::string::npos) << error;
  EXPECT_NE(error.find("GiB of memory here; lower the batch size"), std::string::npos) << error;
  EXPECT_NO_THROW(check_batch_fits(model_preset("fashion"), 1, true, torch::kCPU, ""));
  EXPECT_NO_THROW(check_batch_fits(model_preset("fashion"), 1, false, torch::kCPU, ""));
  // Inference keeps far less per sample than training.
  EXPECT_LT(activation_bytes_per_sample(model_preset("fashion"), false),
            activation_bytes_per_sample(model_preset("fashion"), true) / 4);
}

// Finite weights so large that the prediction overflows (1e30, as a corrupt file or a diverged run has):
// sampling stops with an error instead of returning NaN images.
TEST(ModelChecks, SamplingStopsOnANonFinitePrediction) {
  TrainedModel model;
  model.config = model_preset("mlp-2d");
  model.net = build_model(model.config);
  model.schedule = make_schedule(model.schedule_config);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model.net->parameters()) p.fill_(1e30);
  }
  model.net->eval();
  GenerateOptions options;
  options.n = 4;
  options.sampler.steps = 5;
  const auto error = error_text([&] { generate(model, options); });
  EXPECT_NE(error.find("prediction is not finite"), std::string::npos) << error;
}
