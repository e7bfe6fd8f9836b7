// `ddpm train --eval-every K`: every K steps, FID, precision and recall of n EMA samples (inference/generate.h's fast sampler)
// against n images of the data's test split, in a feature network's space, as `ddpm eval --metric fid`
// measures them (for a class-conditional network also the class accuracy, without guidance): a run shows
// its quality as it goes, in metrics.jsonl, on the progress line and in `ddpm plot`.
#pragma once

#include <string>

#include "ddpm/runtime/precision.h"
#include "ddpm/training/step_evaluation.h"
#include "ddpm/training/train_config.h"

namespace ddpm {

// Loads the test split and the features (config.eval_features, a TorchScript file; empty: the shipped
// classifier) and checks them against the run's network now, so that a run that cannot be measured fails
// before its first step (std::invalid_argument naming the problem).
StepEvaluation training_quality_evaluation(const TrainConfig& config, Precision precision);

}  // namespace ddpm
