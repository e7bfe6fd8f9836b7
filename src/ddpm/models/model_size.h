// What a network costs before it is built: its parameter count and its activation memory per sample,
// derived from the same shape plan as the module builder (unet_plan.h). A size declared by a file is
// checked against the file's own tensors, and a batch against the machine's memory, before anything
// large is allocated.
#pragma once

#include <cstdint>

#include "ddpm/models/model_config.h"

namespace ddpm {

// Every parameter the built network will hold (= parameter_count(*build_model(config))). Validates the
// config first (the plan's checks and limits), so no count overflows.
int64_t planned_parameter_count(const ModelConfig& config);

// Bytes of float32 activations one sample needs: `training` keeps every block's intermediate results for
// backward; inference holds the skip connections and one block's working set. An estimate (within a
// small factor), meant for refusing batches that cannot fit, not for planning to the byte.
int64_t activation_bytes_per_sample(const ModelConfig& config, bool training);

}  // namespace ddpm
