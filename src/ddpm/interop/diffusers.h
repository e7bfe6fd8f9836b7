// Hugging Face diffusers model folders: a UNet2DModel with a DDPMScheduler or DDIMScheduler read as a ddpm
// model, and a ddpm U-Net written so that diffusers' DDPMPipeline.from_pretrained loads it.
//
// Two layouts are read: the pipeline layout (model_index.json, unet/config.json,
// unet/diffusion_pytorch_model.safetensors, scheduler/scheduler_config.json) and the flat layout of the
// early google/ddpm-* repositories (config.json, diffusion_pytorch_model.safetensors and
// scheduler_config.json side by side). Every config key that changes the network or the noise schedule is
// either built exactly or refused with an error naming the file, the key and its value: ddpm never builds a
// network that is only approximately the one that was trained (docs/MODELS.md has the table).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "ddpm/core/schedule.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/noise_net.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

// The diffusers version whose formats the writer follows (model_index.json's and the configs'
// "_diffusers_version").
inline constexpr const char* kDiffusersFormatVersion = "0.30.0";

// Where the safetensors metadata of an exported unet keeps a class-conditional model's class names (diffusers
// knows only their count, num_class_embeds, and not which row is "no class").
inline constexpr const char* kDiffusersClassNamesKey = "ddpm.class_names";

// A UNet2DModel config.json as a ddpm U-Net config (its prediction is the scheduler's). A class-conditional
// one (num_class_embeds) needs the class names ddpm's export keeps with the weights. Throws
// std::invalid_argument "FILE: KEY = VALUE why" for a key ddpm cannot build exactly.
ModelConfig model_config_from_diffusers(const nlohmann::json& config, const std::string& file,
                                        const std::vector<std::string>& class_names = {});
// A ddpm U-Net's config.json for UNet2DModel (every key written, none left to diffusers' defaults).
nlohmann::json diffusers_unet_config(const ModelConfig& config);

// What a scheduler_config.json says: the training schedule, the network's parameterisation
// (prediction_type) and the sampler's defaults (variance_type, clip_sample, timestep_spacing).
struct DiffusersScheduler {
  ScheduleConfig schedule;
  Prediction prediction = Prediction::epsilon;
  SamplingDefaults sampling;
};
DiffusersScheduler scheduler_from_diffusers(const nlohmann::json& config, const std::string& file);
// A DDPMScheduler config for this schedule and these defaults (a schedule diffusers has no name for is
// written as trained_betas).
nlohmann::json diffusers_scheduler_config(const ScheduleConfig& schedule, Prediction prediction,
                                          const SamplingDefaults& sampling);

// Whether `dir` is a diffusers folder of either layout (and not, e.g., a ddpm run folder).
bool is_diffusers_folder(const std::string& dir);

struct DiffusersModel {
  ModelConfig config;
  DiffusersScheduler scheduler;
  NoiseNet net;              // built from config with the weights loaded, in training mode like load_model's
  std::string weights_file;  // the file the weights came from
  std::vector<std::string> files;  // every file read (the weights, the configs)
};

// Reads a diffusers folder: configs mapped (or refused by key), weights under either attention naming
// (query/key/value/proj_attn or to_q/to_k/to_v/to_out.0), in F32/F16/BF16, checked like ddpm's own model
// files (every tensor present, none unexpected, shapes exact, values finite). A folder with only pickled
// .bin weights is refused with the command that converts it.
DiffusersModel read_diffusers_folder(const std::string& dir);

// Writes the pipeline layout into `dir` (created; its parent must exist): model_index.json naming
// DDPMPipeline, unet/config.json, unet/diffusion_pytorch_model.safetensors (float32), and
// scheduler/scheduler_config.json. The folder appears whole or not at all; an existing `dir` is replaced
// only with `replace` (check_output_folder's rules are the caller's). Throws std::invalid_argument for a
// model diffusers cannot express (anything but a U-Net).
void write_diffusers_folder(const std::string& dir, const NoiseNetImpl& net, const ModelConfig& config,
                            const ScheduleConfig& schedule, const SamplingDefaults& sampling, bool replace);

}  // namespace ddpm
