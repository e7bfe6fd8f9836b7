// Training the evaluation classifier (models/classifier.h) on a labelled image data set: cross-entropy,
// Adam with a cosine-decayed learning rate, random horizontal flips, batches in BatchOrder's seeded order.
// The seed fixes everything (weights, order, flips, dropout), so `ddpm classifier train` is reproducible.
#pragma once

#include <cstdint>
#include <functional>

#include "ddpm/data/dataset.h"
#include "ddpm/models/classifier.h"

namespace ddpm {

struct ClassifierTrainOptions {
  int64_t epochs = 2;
  int64_t batch = 128;
  double lr = 2e-3;  // peak Adam learning rate, decayed to 0 by a cosine over all steps
  bool flip = true;
  uint64_t seed = 0;
};

// Called after every step with (step 1..steps, steps, epoch 0-based, the step's loss).
using ClassifierProgress = std::function<void(int64_t step, int64_t steps, int64_t epoch, double loss)>;

// `config`'s image shape and class count must match `train` (images with labels in 0..classes-1).
// Returns the network in eval mode.
Classifier train_classifier(const Dataset& train, const ClassifierConfig& config, const ClassifierTrainOptions& options,
                            const ClassifierProgress& progress = {});

// Fraction of `data` (labelled images) classified correctly.
double classifier_accuracy(ClassifierImpl& net, const Dataset& data);

}  // namespace ddpm
