// A trained model as files: the network's weights with its ModelConfig and its ScheduleConfig in the
// safetensors metadata, so sampling and evaluation need only the file (or a run folder).
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ddpm/core/schedule.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_config.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

inline constexpr const char* kScheduleConfigKey = "ddpm.schedule";  // the step: kStepKey (io/run_folder.h)
inline constexpr const char* kSamplingKey = "ddpm.sampling";  // SamplingDefaults, where the model has any
inline constexpr const char* kLineageStepsKey = "ddpm.lineage_steps";  // kStepKey's steps and those of the weights
                                                                       // the run started from (--init), recursively

// `earlier_steps`: the training steps behind the weights the run started from (0 for a fresh network).
SafetensorsContent trained_model_content(const NoiseNetImpl& net, const ModelConfig& model,
                                         const ScheduleConfig& schedule, int64_t step, int64_t earlier_steps = 0,
                                         const SamplingDefaults& sampling = {});

// The step count a weights file records under `key` (kStepKey or kLineageStepsKey), -1 when it records
// none; a value that is not a step number is an error naming `file`.
int64_t recorded_step(const std::map<std::string, std::string>& metadata, const std::string& file,
                      const char* key = kStepKey);

struct TrainedModel {
  ModelConfig config;
  ScheduleConfig schedule_config;  // as stored with the weights (a run started from them keeps it)
  Schedule schedule;               // built from schedule_config
  NoiseNet net;        // in eval mode, on the requested device
  int64_t step = -1;   // training steps of the run that wrote the weights (-1 if unknown)
  int64_t lineage_steps = -1;  // all the steps behind them, earlier runs (--init) included (-1 if unknown)
  std::string path;    // the weights file read (a diffusers model: its folder)
  SamplingDefaults sampling;  // the sampler settings the model came with (an imported scheduler's)
  std::vector<std::string> files;  // every file it was read from: a command must never write over one
};

// A model argument as a path: an existing file or run folder as given, else the shipped model of that
// name (inference/shipped_models.h). Throws, listing the shipped names, if it is neither.
std::string resolve_model_path(const std::string& path_or_name);

// Loads a .safetensors model file, a run folder's EMA weights (raw weights with `raw`), a diffusers
// folder (interop/diffusers.h; it has one set of weights, so `raw` is refused), or a shipped model by name.
TrainedModel load_trained_model(const std::string& path_or_name, bool raw = false,
                                c10::Device device = c10::Device(c10::kCPU));

}  // namespace ddpm
