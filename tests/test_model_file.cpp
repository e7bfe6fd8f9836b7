// Saved models: config JSON round trips, save → load gives bit-identical outputs, and a file whose
// tensors do not fit the config is rejected naming the tensor. Also runs the built `ddpm info`.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>
#include <nlohmann/json.hpp>

#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_file.h"
#include "ddpm/version.h"
#include "temp_dir.h"

using namespace ddpm;

namespace {

ModelConfig tiny_unet() {
  ModelConfig c;
  c.unet.in_channels = 2, c.unet.image_height = 8, c.unet.image_width = 12, c.unet.base_channels = 8;
  c.unet.channel_mult = {1, 2}, c.unet.num_res_blocks = 1, c.unet.attention_resolutions = {4};
  c.unet.norm_groups = 4;
  return c;
}

void expect_error_mentions(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << fragment;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

}  // namespace

TEST(ModelConfig, RoundTripsThroughJsonAndRejectsBadFields) {
  for (const auto& name : preset_names()) {
    const nlohmann::json j = model_preset(name);
    EXPECT_EQ(nlohmann::json(j.get<ModelConfig>()), j) << name;
  }
  nlohmann::json j = tiny_unet();
  j["unet"].erase("num_res_blocks");
  expect_error_mentions([&] { j.get<ModelConfig>(); }, "model_config.unet.num_res_blocks");
  j = tiny_unet();
  j["unet"]["dropuot"] = 0.1;
  expect_error_mentions([&] { j.get<ModelConfig>(); }, "dropuot");
  j = tiny_unet();
  j["unet"]["base_channels"] = "wide";
  expect_error_mentions([&] { j.get<ModelConfig>(); }, "base_channels");
  expect_error_mentions([] { model_preset("imagenet"); }, "imagenet");
}

TEST(ModelFile, SaveLoadGivesBitIdenticalOutputs) {
  torch::manual_seed(0);
  test::TempDir dir;
  for (auto config : {tiny_unet(), model_preset("mlp-2d")}) {
    auto net = build_model(config);
    net->eval();
    const auto x = config.arch == "unet" ? torch::randn({3, 2, 8, 12}) : torch::randn({3, 2});
    const auto t = torch::tensor({0, 417, 999}, torch::kLong);
    const auto path = dir.file(config.arch + ".safetensors");
    save_model(path, *net, config, {{"step", "1234"}});
    auto loaded = load_model(path);
    loaded.net->eval();
    EXPECT_EQ(nlohmann::json(loaded.config), nlohmann::json(config));
    EXPECT_EQ(loaded.metadata.at("step"), "1234");
    EXPECT_EQ(loaded.metadata.at(kVersionKey), DDPM_VERSION);  // the version that wrote it
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(loaded.net->forward(x, t), net->forward(x, t))) << config.arch;
  }
}

TEST(ModelFile, RejectsMissingWrongShapedAndExtraTensors) {
  test::TempDir dir;
  const auto config = tiny_unet();
  const auto path = dir.file("m.safetensors");
  save_model(path, *build_model(config), config);
  const auto good = read_safetensors(path);
  const std::string victim = "mid_block.attentions.0.to_k.weight";

  auto edited = good;
  edited.tensors.erase(std::find_if(edited.tensors.begin(), edited.tensors.end(),
                                    [&](const auto& p) { return p.first == victim; }));
  write_safetensors(path, edited);
  expect_error_mentions([&] { load_model(path); }, victim);

  edited = good;
  for (auto& [name, t] : edited.tensors)
    if (name == victim) t = torch::zeros({3, 3});
  write_safetensors(path, edited);
  expect_error_mentions([&] { load_model(path); }, victim);

  edited = good;
  edited.tensors.emplace_back("mid_block.attentions.0.query.weight", torch::zeros({16, 16}));
  write_safetensors(path, edited);
  expect_error_mentions([&] { load_model(path); }, "mid_block.attentions.0.query.weight");

  edited = good;
  edited.metadata.erase(kModelConfigKey);
  write_safetensors(path, edited);
  expect_error_mentions([&] { load_model(path); }, kModelConfigKey);
  EXPECT_THROW(save_model(path, *build_model(config), config, {{kModelConfigKey, "{}"}}), std::invalid_argument);
}

TEST(InfoCommand, ReportsTheFashionPresetAndASavedModel) {
  const auto preset = nlohmann::json::parse(run_command(std::string(DDPM_CLI_PATH) + " info --preset fashion --json"));
  EXPECT_EQ(preset.at("parameters").get<int64_t>(), 1'623'169);
  EXPECT_EQ(preset.at("forward_flops_per_sample").get<int64_t>(), forward_flops_per_sample(model_preset("fashion")));
  EXPECT_EQ(preset.at("config"), nlohmann::json(model_preset("fashion")));

  test::TempDir dir;
  const auto config = tiny_unet();
  auto net = build_model(config);
  save_model(dir.file("m.safetensors"), *net, config);
  const auto saved =
      nlohmann::json::parse(run_command(std::string(DDPM_CLI_PATH) + " info --json --model " + dir.file("m.safetensors")));
  EXPECT_EQ(saved.at("parameters").get<int64_t>(), parameter_count(*net));
  EXPECT_EQ(saved.at("config"), nlohmann::json(config));
  const auto text = run_command(std::string(DDPM_CLI_PATH) + " info --model " + dir.file("m.safetensors"));
  const auto at = text.find("written by ddpm");
  ASSERT_NE(at, std::string::npos) << text;
  std::istringstream rest(text.substr(at + 15, text.find('\n', at) - at - 15));
  std::string version;
  rest >> version;
  EXPECT_EQ(version, DDPM_VERSION) << text;
}
