// diffusers folders on disk: finding the files of either layout, reading the weights under either naming,
// and writing the pipeline layout whole (see diffusers.h).
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "ddpm/interop/diffusers.h"
#include "ddpm/interop/diffusers_config.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/models/model_file.h"
#include "ddpm/version.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

using nlohmann::json;

constexpr const char* kWeights = "diffusion_pytorch_model.safetensors";
constexpr const char* kUNetConfig = "config.json";
constexpr const char* kSchedulerConfig = "scheduler_config.json";
constexpr const char* kPipelineIndex = "model_index.json";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

json read_json(const fs::path& file) {
  try {
    return json::parse(read_file_bytes(file.string()));
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
}

// The folders holding the unet and the scheduler: <dir>/unet and <dir>/scheduler (pipeline layout), or
// <dir> itself (flat layout; diffusers, too, loads a component from the root when its folder is absent).
struct Layout {
  fs::path unet, scheduler;
};

Layout find_layout(const fs::path& dir) {
  Layout l;
  l.unet = is_file(dir / "unet" / kUNetConfig) ? dir / "unet" : dir;
  l.scheduler = is_file(dir / "scheduler" / kSchedulerConfig) ? dir / "scheduler" : dir;
  return l;
}

// The unet's weights file: the float32 file, else the fp16 variant (diffusers' "variant" naming).
fs::path weights_file(const fs::path& unet) {
  for (const char* name : {kWeights, "diffusion_pytorch_model.fp16.safetensors"})
    if (is_file(unet / name)) return unet / name;
  if (is_file(unet / "diffusion_pytorch_model.safetensors.index.json"))
    throw std::runtime_error(fmt::format("{}: sharded weights are not supported (a DDPM U-Net fits one file)",
                                         (unet / "diffusion_pytorch_model.safetensors.index.json").string()));
  for (const char* name : {"diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"})
    if (is_file(unet / name))
      throw std::runtime_error(fmt::format(
          "{}: pickled PyTorch weights are not read (unpickling runs code from the file); convert them once with "
          "python3 -c \"import torch, safetensors.torch as s; s.save_file(torch.load('{}', map_location='cpu'), "
          "'{}')\"",
          (unet / name).string(), (unet / name).string(), (unet / kWeights).string()));
  throw std::runtime_error(fmt::format("{}: no {} in this diffusers folder", unet.string(), kWeights));
}

// Attention weights under diffusers' current names (google's converted checkpoints use the old ones), as
// [C, C] (an original-format 1×1 convolution [C, C, 1, 1] is the same matrix), in float32.
SafetensorsContent current_names(SafetensorsContent content) {
  static const std::pair<const char*, const char*> kRenames[] = {
      {".query.", ".to_q."}, {".key.", ".to_k."}, {".value.", ".to_v."}, {".proj_attn.", ".to_out.0."}};
  for (auto& [name, tensor] : content.tensors) {
    if (name.find(".attentions.") == std::string::npos) continue;
    for (const auto& [from, to] : kRenames)
      if (const auto at = name.find(from); at != std::string::npos) name.replace(at, std::string(from).size(), to);
    if (tensor.dim() == 4 && tensor.size(2) == 1 && tensor.size(3) == 1) tensor = tensor.flatten(1);
  }
  for (auto& [name, tensor] : content.tensors)
    if (tensor.is_floating_point()) tensor = tensor.to(torch::kFloat32);
  return content;
}

std::vector<std::string> class_names_of(const SafetensorsContent& weights, const std::string& file) {
  const auto it = weights.metadata.find(kDiffusersClassNamesKey);
  if (it == weights.metadata.end()) return {};
  try {
    auto names = json::parse(it->second).get<std::vector<std::string>>();
    check_class_names(names, file + " metadata " + kDiffusersClassNamesKey);
    return names;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: metadata {} is not a list of names: {}", file, kDiffusersClassNamesKey,
                                         e.what()));
  }
}

// A model_index.json, where there is one, must name a pixel-space DDPM or DDIM pipeline: a latent-diffusion
// folder's unet also passes every U-Net check, but its samples are latents for a decoder ddpm does not have.
void check_pipeline(const fs::path& index_file) {
  if (!is_file(index_file)) return;
  const json raw = read_json(index_file);
  const DiffusersConfig index(raw, index_file.string());
  const auto name = index.get<std::string>("_class_name", "DDPMPipeline");
  if (name != "DDPMPipeline" && name != "DDIMPipeline")
    throw index.error("_class_name", "is not supported: ddpm runs DDPMPipeline and DDIMPipeline folders (a unet and "
                                     "a scheduler in pixel space)");
  for (const auto& [key, value] : raw.items())
    if (key.rfind('_', 0) != 0 && key != "unet" && key != "scheduler")
      throw index.error(key, "is not supported: ddpm's pipelines are a unet and a scheduler");
}

void write_json(const fs::path& file, const json& j) { write_file_atomically(file.string(), j.dump(2) + "\n"); }

}  // namespace

bool is_diffusers_folder(const std::string& dir) {
  const fs::path d(dir);
  if (is_file(d / kPipelineIndex) || is_file(d / "unet" / kUNetConfig)) return true;
  if (!is_file(d / kUNetConfig)) return false;
  try {  // flat layout: a config.json naming a diffusers class (a ddpm run folder's config.json does not)
    const auto j = read_json(d / kUNetConfig);
    return j.is_object() && j.contains("_class_name");
  } catch (const std::runtime_error&) {
    return false;
  }
}

DiffusersModel read_diffusers_folder(const std::string& dir) {
  check_pipeline(fs::path(dir) / kPipelineIndex);
  const auto layout = find_layout(dir);
  const auto unet_config = layout.unet / kUNetConfig, scheduler_config = layout.scheduler / kSchedulerConfig;
  for (const auto& f : {unet_config, scheduler_config})
    if (!is_file(f))
      throw std::runtime_error(fmt::format("{}: missing; a diffusers model needs {}", f.string(),
                                           f == unet_config ? "the UNet2DModel's config (unet/config.json)"
                                                            : "its scheduler's config (the noise schedule)"));
  DiffusersModel m;
  m.weights_file = weights_file(layout.unet).string();
  m.files = {m.weights_file, unet_config.string(), scheduler_config.string()};
  if (is_file(fs::path(dir) / kPipelineIndex)) m.files.push_back((fs::path(dir) / kPipelineIndex).string());
  auto weights = current_names(read_safetensors(m.weights_file));
  m.scheduler = scheduler_from_diffusers(read_json(scheduler_config), scheduler_config.string());
  m.config = model_config_from_diffusers(read_json(unet_config), unet_config.string(),
                                         class_names_of(weights, m.weights_file));
  m.config.prediction = m.scheduler.prediction;
  m.net = build_model(m.config);
  load_weights_into(*m.net, weights, m.weights_file);
  return m;
}

void write_diffusers_folder(const std::string& dir, const NoiseNetImpl& net, const ModelConfig& config,
                            const ScheduleConfig& schedule, const SamplingDefaults& sampling, bool replace) {
  const auto unet_json = diffusers_unet_config(config);  // refuses what diffusers cannot express, before any write
  const auto scheduler_json = diffusers_scheduler_config(schedule, config.prediction, sampling);
  SafetensorsContent weights;
  for (auto& [name, tensor] : state_dict_tensors(net))
    weights.tensors.emplace_back(name, tensor.to(torch::kCPU, torch::kFloat32).contiguous());
  weights.metadata = {{"format", "pt"}, {kVersionKey, DDPM_VERSION}};
  if (config.conditional()) weights.metadata[kDiffusersClassNamesKey] = json(config.class_names).dump();

  // Written into a sibling folder, then renamed into place: a reader never sees half a model.
  fs::path target = fs::absolute(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "out/" and "." name the folder itself
  const fs::path partial = target.string() + fmt::format(".partial-{}", ::getpid());
  const fs::path old = target.string() + fmt::format(".old-{}", ::getpid());
  std::error_code ec;
  fs::remove_all(partial, ec);
  try {
    fs::create_directories(partial / "unet");
    fs::create_directories(partial / "scheduler");
    write_json(partial / kPipelineIndex, {{"_class_name", "DDPMPipeline"},
                                          {"_diffusers_version", kDiffusersFormatVersion},
                                          {"scheduler", {"diffusers", "DDPMScheduler"}},
                                          {"unet", {"diffusers", "UNet2DModel"}}});
    write_json(partial / "unet" / kUNetConfig, unet_json);
    write_safetensors((partial / "unet" / kWeights).string(), weights);
    write_json(partial / "scheduler" / kSchedulerConfig, scheduler_json);
    const bool exists = fs::exists(target);
    if (exists && !replace && !fs::is_empty(target))
      throw std::runtime_error(fmt::format("{}: exists and is not empty (not replaced)", target.string()));
    if (exists) fs::rename(target, old);
    try {
      fs::rename(partial, target);
    } catch (...) {
      if (exists) fs::rename(old, target, ec);  // the old folder back in place
      throw;
    }
    if (exists) fs::remove_all(old, ec);  // the new folder is in place; a leftover old one is only untidy
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(partial, ec);
    throw std::runtime_error(fmt::format("{}: cannot write the diffusers folder: {}", target.string(), e.what()));
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }
}

}  // namespace ddpm
