// diffusers folders: ddpm's U-Net written for diffusers and read back bit for bit, folders of both layouts and
// both attention namings (built here, as nothing can be downloaded), google/ddpm-*'s configs mapped to Ho et
// al.'s networks (their published parameter counts), and every key, tensor or file ddpm cannot use refused by
// name. Also `ddpm export --format diffusers`, `ddpm info` and `ddpm sample --noise` on such a folder.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/interop/diffusers.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_file.h"
#include "ddpm/models/model_kind.h"
#include "error_text.h"
#include "temp_dir.h"

namespace ddpm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

// A small U-Net with every setting that differs from Ho et al.'s (2 heads, flipped unshifted sinusoid,
// symmetric downsampling padding).
ModelConfig small_unet(bool conditional = false) {
  ModelConfig m;
  auto& u = m.unet;
  u.in_channels = 3, u.image_height = u.image_width = 8, u.base_channels = 8, u.channel_mult = {1, 2};
  u.num_res_blocks = 1, u.attention_resolutions = {4}, u.norm_groups = 4, u.dropout = 0.0, u.norm_eps = 1e-5;
  u.attention_head_dim = 8, u.flip_sin_to_cos = true, u.freq_shift = 0, u.downsample_padding = 1;
  if (conditional) m.class_names = {"cat", "dog"};
  return m;
}

json read_json(const fs::path& p) { return json::parse(read_file_bytes(p.string())); }
void write_json(const fs::path& p, const json& j) { write_file_atomically(p.string(), j.dump()); }

// A model exported to `dir`: weights from seed 1, a cosine schedule of 50 steps.
struct Exported {
  ModelConfig config;
  ScheduleConfig schedule;
  NoiseNet net;
};

Exported export_small(const fs::path& dir, bool conditional = false, SamplingDefaults sampling = {}) {
  Exported e{small_unet(conditional), {}, nullptr};
  e.schedule.kind = "cosine", e.schedule.timesteps = 50;
  torch::manual_seed(1);
  e.net = build_model(e.config);
  write_diffusers_folder(dir.string(), *e.net, e.config, e.schedule, sampling, /*replace=*/false);
  return e;
}

TEST(Diffusers, ExportWritesThePipelineLayout) {
  TempDir tmp;
  const auto dir = tmp.path() / "pipe";
  export_small(dir, /*conditional=*/true);
  const auto index = read_json(dir / "model_index.json");
  EXPECT_EQ(index["_class_name"], "DDPMPipeline");
  EXPECT_EQ(index["unet"], json({"diffusers", "UNet2DModel"}));
  EXPECT_EQ(index["scheduler"], json({"diffusers", "DDPMScheduler"}));
  const auto unet = read_json(dir / "unet" / "config.json");
  EXPECT_EQ(unet["block_out_channels"], json({8, 16}));
  EXPECT_EQ(unet["down_block_types"], json({"DownBlock2D", "AttnDownBlock2D"}));
  EXPECT_EQ(unet["up_block_types"], json({"AttnUpBlock2D", "UpBlock2D"}));
  EXPECT_EQ(unet["attention_head_dim"], 8);
  EXPECT_EQ(unet["num_class_embeds"], 3);  // two classes and "no class"
  EXPECT_EQ(unet["sample_size"], 8);
  const auto scheduler = read_json(dir / "scheduler" / "scheduler_config.json");
  EXPECT_EQ(scheduler["beta_schedule"], "squaredcos_cap_v2");
  EXPECT_EQ(scheduler["num_train_timesteps"], 50);
  EXPECT_EQ(scheduler["variance_type"], "fixed_large");  // ddpm's default for all T steps: β
  const auto weights = read_safetensors((dir / "unet" / "diffusion_pytorch_model.safetensors").string());
  EXPECT_EQ(weights.metadata.at("format"), "pt");
  EXPECT_EQ(weights.metadata.at(kDiffusersClassNamesKey), R"(["cat","dog"])");
  for (const auto& [name, tensor] : weights.tensors) EXPECT_EQ(tensor.scalar_type(), torch::kFloat32) << name;
  for (const auto& entry : fs::directory_iterator(tmp.path()))  // no partial folder left behind
    EXPECT_EQ(entry.path().filename(), "pipe");
}

TEST(Diffusers, RoundTripGivesBitIdenticalWeightsAndSamples) {
  for (const bool conditional : {false, true}) {
    TempDir tmp;
    const auto dir = tmp.path() / "pipe";
    const auto e = export_small(dir, conditional);
    ASSERT_TRUE(is_diffusers_folder(dir.string()));
    auto model = load_trained_model(dir.string());
    EXPECT_EQ(json(model.config), json(e.config));
    EXPECT_EQ(json(model.schedule_config).dump(), json(e.schedule).dump());
    const auto mine = state_dict_tensors(*e.net), theirs = state_dict_tensors(*model.net);
    ASSERT_EQ(mine.size(), theirs.size());
    for (size_t i = 0; i < mine.size(); ++i) {
      EXPECT_EQ(mine[i].first, theirs[i].first);
      EXPECT_TRUE(torch::equal(mine[i].second, theirs[i].second)) << mine[i].first;
    }
    TrainedModel original{e.config, e.schedule, make_schedule(e.schedule), e.net, -1, -1, "memory", {}};
    original.net->eval();
    GenerateOptions options;
    options.n = 3, options.seed = 7;
    if (conditional) options.labels = torch::tensor(std::vector<int64_t>{0, 1, 2});
    EXPECT_TRUE(torch::equal(generate(original, options), generate(model, options)));
  }
}

TEST(Diffusers, ExportRefusesAnExistingFolderAndAPointModel) {
  TempDir tmp;
  const auto dir = tmp.path() / "pipe";
  const auto e = export_small(dir);
  EXPECT_NE(error_text([&] { write_diffusers_folder(dir.string(), *e.net, e.config, e.schedule, {}, false); })
                .find("exists"),
            std::string::npos);
  write_diffusers_folder(dir.string(), *e.net, e.config, e.schedule, {}, /*replace=*/true);
  EXPECT_TRUE(is_diffusers_folder(dir.string()));
  const auto mlp = model_preset("mlp-2d");
  const auto net = build_model(mlp);
  EXPECT_NE(error_text([&] { write_diffusers_folder((tmp.path() / "mlp").string(), *net, mlp, {}, {}, false); })
                .find("only ddpm's U-Net"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.path() / "mlp"));
}

// The flat layout of google/ddpm-*, their attention names (query/key/value/proj_attn), the original
// checkpoints' 1×1-convolution shapes, and fp16 weights.
TEST(Diffusers, ReadsTheFlatLayoutWithLegacyNamesInHalfPrecision) {
  TempDir tmp;
  const auto pipe = tmp.path() / "pipe", flat = tmp.path() / "flat";
  const auto e = export_small(pipe);
  fs::create_directories(flat);
  fs::copy_file(pipe / "unet" / "config.json", flat / "config.json");
  fs::copy_file(pipe / "scheduler" / "scheduler_config.json", flat / "scheduler_config.json");
  auto weights = read_safetensors((pipe / "unet" / "diffusion_pytorch_model.safetensors").string());
  int renamed = 0;
  for (auto& [name, tensor] : weights.tensors) {
    for (const auto& [now, old] : {std::pair{".to_q.", ".query."}, {".to_k.", ".key."}, {".to_v.", ".value."},
                                   {".to_out.0.", ".proj_attn."}})
      if (const auto at = name.find(now); at != std::string::npos) name.replace(at, std::string(now).size(), old), ++renamed;
    if (name.find(".query.weight") != std::string::npos) tensor = tensor.view({tensor.size(0), tensor.size(1), 1, 1});
    tensor = tensor.to(torch::kFloat16);
  }
  EXPECT_GT(renamed, 8);
  write_safetensors((flat / "diffusion_pytorch_model.safetensors").string(), weights);
  ASSERT_TRUE(is_diffusers_folder(flat.string()));
  const auto model = load_trained_model(flat.string());
  const auto mine = state_dict_tensors(*e.net), theirs = state_dict_tensors(*model.net);
  for (size_t i = 0; i < mine.size(); ++i)
    EXPECT_TRUE(torch::equal(mine[i].second.to(torch::kFloat16).to(torch::kFloat32), theirs[i].second)) << mine[i].first;
}

// google/ddpm-cifar10-32's config.json and google/ddpm-cat-256's architecture: Ho et al.'s networks, with the
// parameter counts their paper gives (35.7 M and 114 M; diffusers' UNet2DModel counts 35,746,307 and
// 113,673,219).
json google_config(const json& widths, const json& down, const json& up, int size) {
  return {{"_class_name", "UNet2DModel"}, {"_diffusers_version", "0.0.4"}, {"act_fn", "silu"},
          {"attention_head_dim", nullptr}, {"block_out_channels", widths}, {"center_input_sample", false},
          {"down_block_types", down}, {"downsample_padding", 0}, {"flip_sin_to_cos", false}, {"freq_shift", 1},
          {"in_channels", 3}, {"layers_per_block", 2}, {"mid_block_scale_factor", 1}, {"norm_eps", 1e-06},
          {"norm_num_groups", 32}, {"out_channels", 3}, {"sample_size", size},
          {"time_embedding_type", "positional"}, {"up_block_types", up}};
}

TEST(Diffusers, GoogleConfigsAreHoEtAlsNetworks) {
  const auto cifar = model_config_from_diffusers(
      google_config({128, 256, 256, 256}, {"DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"},
                    {"UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"}, 32),
      "config.json");
  auto preset = model_preset("cifar10");
  preset.unet.dropout = 0.0;  // diffusers' configs leave dropout (training only) at 0
  EXPECT_EQ(json(cifar), json(preset));
  EXPECT_EQ(model_kind("unet").parameters(cifar), 35746307);

  const auto cat = model_config_from_diffusers(
      google_config({128, 128, 256, 256, 512, 512},
                    {"DownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "DownBlock2D"},
                    {"UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"}, 256),
      "config.json");
  auto preset256 = model_preset("celebahq256");
  EXPECT_EQ(json(cat), json(preset256));
  EXPECT_EQ(model_kind("unet").parameters(cat), 113673219);

  // Without the key, diffusers' default of 8 channels a head applies (32 heads at 256 channels).
  auto config = google_config({128, 256, 256, 256}, {"DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"},
                              {"UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"}, 32);
  config.erase("attention_head_dim");
  EXPECT_EQ(model_config_from_diffusers(config, "config.json").unet.attention_head_dim, 8);
  config["_use_default_values"] = {"norm_eps"};  // diffusers' current default replaces the written value
  EXPECT_EQ(model_config_from_diffusers(config, "config.json").unet.norm_eps, 1e-5);
}

TEST(Diffusers, RefusesUnetKeysItCannotBuildByName) {
  const auto base = google_config({32, 64}, {"DownBlock2D", "AttnDownBlock2D"}, {"AttnUpBlock2D", "UpBlock2D"}, 16);
  const std::vector<std::pair<std::string, json>> refused = {
      {"resnet_time_scale_shift", "scale_shift"}, {"time_embedding_type", "fourier"},
      {"down_block_types", {"SkipDownBlock2D", "AttnDownBlock2D"}}, {"center_input_sample", true},
      {"mid_block_scale_factor", 1.414},          {"out_channels", 6},
      {"class_embed_type", "timestep"},           {"act_fn", "gelu"},
      {"upsample_type", "resnet"},                {"up_block_types", {"UpBlock2D", "AttnUpBlock2D"}},
      {"freq_shift", 2},                          {"num_class_embeds", 10},
      {"_class_name", "UNet2DConditionModel"},    {"sample_size", nullptr},
      {"block_out_channels", {32, 48}},           {"time_embedding_dim", 256},
      {"layers_per_block", 2.9},                  {"block_out_channels", {32.0, 64}},
      {"flip_sin_to_cos", "false"}};
  for (const auto& [key, value] : refused) {
    auto config = base;
    config[key] = value;
    const auto message = error_text([&] { model_config_from_diffusers(config, "dir/config.json"); });
    EXPECT_EQ(message.rfind("dir/config.json: " + key + " = " + value.dump(), 0), 0u) << key << ": " << message;
  }
  EXPECT_NO_THROW(model_config_from_diffusers(base, "dir/config.json"));
}

TEST(Diffusers, MapsAndRefusesSchedulerKeys) {
  const auto s = scheduler_from_diffusers({{"_class_name", "DDPMScheduler"},
                                           {"beta_schedule", "scaled_linear"},
                                           {"beta_start", 0.00085},
                                           {"beta_end", 0.012},
                                           {"variance_type", "fixed_large"},
                                           {"clip_sample", false},
                                           {"timestep_spacing", "trailing"},
                                           {"prediction_type", "v_prediction"}},
                                          "scheduler_config.json");
  EXPECT_EQ(s.schedule.kind, "quadratic");
  // ᾱ_999 of scaled_linear 0.00085..0.012 (linspace in √β, squared), in closed form.
  double abar = 1.0;
  for (int i = 0; i < 1000; ++i) {
    const double r = std::sqrt(0.00085) + (std::sqrt(0.012) - std::sqrt(0.00085)) * i / 999.0;
    abar *= 1.0 - r * r;
  }
  EXPECT_NEAR(make_schedule(s.schedule).alphas_cumprod[999].item<double>(), abar, 1e-12);
  EXPECT_EQ(*s.sampling.variance, VarianceKind::Beta);
  EXPECT_FALSE(*s.sampling.clip_x0);
  EXPECT_EQ(*s.sampling.spacing, "trailing");
  EXPECT_EQ(s.prediction, Prediction::v);
  const auto custom = scheduler_from_diffusers({{"num_train_timesteps", 3}, {"trained_betas", {0.1, 0.2, 0.3}}}, "s");
  EXPECT_EQ(custom.schedule.kind, "custom");
  EXPECT_NEAR(make_schedule(custom.schedule).alphas_cumprod[2].item<double>(), 0.9 * 0.8 * 0.7, 1e-15);

  const std::vector<std::pair<std::string, json>> refused = {
      {"variance_type", "learned_range"}, {"beta_schedule", "laplace"},  {"thresholding", true},
      {"steps_offset", 1},                {"rescale_betas_zero_snr", true}, {"clip_sample_range", 2.0},
      {"timestep_spacing", "custom"},     {"prediction_type", "flow"},   {"_class_name", "PNDMScheduler"}};
  for (const auto& [key, value] : refused) {
    const json config = {{key, value}};
    const auto message = error_text([&] { scheduler_from_diffusers(config, "dir/scheduler_config.json"); });
    EXPECT_EQ(message.rfind("dir/scheduler_config.json: " + key + " = " + value.dump(), 0), 0u) << message;
  }
  EXPECT_NE(error_text([] {
              scheduler_from_diffusers({{"_class_name", "DDIMScheduler"}, {"set_alpha_to_one", false}}, "s");
            }).find("set_alpha_to_one"),
            std::string::npos);
}

TEST(Diffusers, RefusesBadFoldersAndWeightsByName) {
  TempDir tmp;
  const auto pipe = tmp.path() / "pipe";
  export_small(pipe);
  const auto weights_path = pipe / "unet" / "diffusion_pytorch_model.safetensors";
  const auto good = read_safetensors(weights_path.string());
  const auto with = [&](const std::function<void(SafetensorsContent&)>& change) {
    auto w = good;
    change(w);
    write_safetensors(weights_path.string(), w);
    return error_text([&] { read_diffusers_folder(pipe.string()); });
  };
  EXPECT_NE(with([](auto& w) { w.tensors.erase(w.tensors.begin()); }).find("is missing"), std::string::npos);
  EXPECT_NE(with([](auto& w) { w.tensors.emplace_back("extra.weight", torch::zeros({2})); }).find("\"extra.weight\""),
            std::string::npos);
  EXPECT_NE(with([](auto& w) { w.tensors[0].second = torch::zeros({1}); }).find("has shape"), std::string::npos);
  EXPECT_NE(with([](auto& w) { w.tensors[0].second[0] = NAN; }).find("NaN"), std::string::npos);
  write_safetensors(weights_path.string(), good);

  // Pickled weights only: refused, with the command that converts them.
  fs::rename(weights_path, pipe / "unet" / "diffusion_pytorch_model.bin");
  const auto pickled = error_text([&] { read_diffusers_folder(pipe.string()); });
  EXPECT_NE(pickled.find("diffusion_pytorch_model.bin"), std::string::npos) << pickled;
  EXPECT_NE(pickled.find("python3 -c"), std::string::npos) << pickled;
  fs::rename(pipe / "unet" / "diffusion_pytorch_model.bin", weights_path);

  fs::remove(pipe / "scheduler" / "scheduler_config.json");
  EXPECT_NE(error_text([&] { read_diffusers_folder(pipe.string()); }).find("scheduler_config.json: missing"),
            std::string::npos);
  // A latent-diffusion pipeline's unet passes every U-Net check; its model_index.json gives it away.
  write_json(pipe / "model_index.json", {{"_class_name", "LDMPipeline"}, {"unet", {"diffusers", "UNet2DModel"}}});
  EXPECT_EQ(error_text([&] { read_diffusers_folder(pipe.string()); }).rfind((pipe / "model_index.json").string() +
                                                                            ": _class_name = \"LDMPipeline\"", 0),
            0u);
  write_json(pipe / "model_index.json", {{"_class_name", "DDPMPipeline"}, {"vqvae", {"diffusers", "VQModel"}}});
  EXPECT_NE(error_text([&] { read_diffusers_folder(pipe.string()); }).find("vqvae"), std::string::npos);
  // A config.json without "_class_name" (a ddpm run folder's) is not a diffusers folder.
  const auto run = tmp.path() / "run";
  fs::create_directories(run);
  write_json(run / "config.json", {{"data", "fashion-mnist"}});
  EXPECT_FALSE(is_diffusers_folder(run.string()));
}

TEST(Diffusers, StartingNoiseMakesDDIMDeterministicAndIsChecked) {
  TempDir tmp;
  const auto e = export_small(tmp.path() / "pipe");
  auto model = load_trained_model((tmp.path() / "pipe").string());
  GenerateOptions options;
  options.n = 2;
  options.sampler.kind = "ddim", options.sampler.steps = 5;
  torch::manual_seed(3);
  options.noise = torch::randn({2, 3, 8, 8});
  options.seed = 1;
  const auto a = generate(model, options);
  options.seed = 2;
  EXPECT_TRUE(torch::equal(a, generate(model, options)));  // η = 0: the noise decides everything
  options.noise = torch::randn({2, 1, 8, 8});
  EXPECT_NE(error_text([&] { generate(model, options); }).find("this model starts from [N, 3, 8, 8]"),
            std::string::npos);
}

// The tool on a diffusers folder: export, info, sampling from given noise, and errors naming the file.
TEST(Diffusers, CommandLine) {
  TempDir tmp;
  const auto dir = tmp.file("fashion-diffusers"), noise = tmp.file("noise.safetensors");
  ASSERT_EQ(run_cli("export --model fashion --format diffusers --out " + dir).status, 0);
  EXPECT_NE(run_cli("export --model fashion --format diffusers --out " + dir, true).out.find("is not empty"),
            std::string::npos);
  const auto info = run_cli("info --model " + dir);
  EXPECT_EQ(info.status, 0);
  EXPECT_NE(info.out.find("diffusers folder"), std::string::npos) << info.out;
  torch::manual_seed(2);
  write_safetensors(noise, {{{"x_T", torch::randn({2, 1, 28, 28})}}, {}});
  // Algorithm 2 on 20 steps with σ² = β from the same x_T and seed: the exported folder samples what the
  // shipped model does, bit for bit.
  const std::string common = " --noise " + noise + " --seed 9 --steps 20 --variance beta --force";
  for (const auto& [model, name] : {std::pair{dir, "a"}, {std::string("fashion"), "b"}})
    ASSERT_EQ(run_cli("sample --model " + model + common + " --out " + tmp.file(name + std::string(".png")) +
                      " --save-tensors " + tmp.file(name + std::string(".safetensors")))
                  .status,
              0);
  const auto a = read_safetensors(tmp.file("a.safetensors")).tensors[0].second;
  const auto b = read_safetensors(tmp.file("b.safetensors")).tensors[0].second;
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(a, b));
  write_safetensors(noise, {{{"x_T", torch::randn({2, 3, 28, 28})}}, {}});
  const auto bad = run_cli("sample --model " + dir + common + " --out " + tmp.file("c.png"), true);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.out.find(noise + ": the starting noise has shape [2, 3, 28, 28]"), std::string::npos) << bad.out;
  write_safetensors(noise, {{{"x_T", torch::randn({2, 1, 28, 28})}}, {}});
  const auto both = run_cli("sample --model " + dir + " --n 3" + common + " --out " + tmp.file("d.png"), true);
  EXPECT_NE(both.status, 0);
  EXPECT_NE(both.out.find("excludes"), std::string::npos) << both.out;
  // Nothing the folder holds can be written over: not as an output file, nor by exporting into it.
  EXPECT_NE(run_cli("sample --model " + dir + common + " --out " + tmp.file("e.png") + " --save-tensors " + dir +
                    "/unet/diffusion_pytorch_model.safetensors")
                .status,
            0);
  EXPECT_NE(run_cli("export --model " + dir + " --format diffusers --force --out " + dir + "/unet").status, 0);
  EXPECT_NE(run_cli("sample --raw --model " + dir + common + " --out " + tmp.file("f.png")).status, 0);
  EXPECT_TRUE(is_diffusers_folder(dir));
  EXPECT_NO_THROW(load_trained_model(dir));
}

}  // namespace
}  // namespace ddpm
