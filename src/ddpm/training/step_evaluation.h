// A measurement of the EMA network taken while a run trains (`ddpm train --eval-every K`). The trainer knows
// when, not what: the measurement (evaluation/training_quality.h: sample quality against the test split) is
// given to it, so that training does not depend on the evaluation code.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "ddpm/models/noise_net.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/training/train_config.h"

namespace ddpm {

struct StepEvaluationResult {
  nlohmann::json record;  // logged in metrics.jsonl as {"step": s, "eval": record}
  std::string summary;    // one line for the progress display
};

// Called with the EMA network (in eval mode) and the step; must leave the trainer's random state alone.
using StepEvaluation = std::function<StepEvaluationResult(const NoiseNet& ema, int64_t step)>;

// Makes the measurement for a run's final configuration and arithmetic; throws if the run cannot be measured.
using StepEvaluationFactory = std::function<StepEvaluation(const TrainConfig& config, Precision precision)>;

}  // namespace ddpm
