// A trained model's noise prediction for rows that may each ask for a class: the one place that checks a
// request's classes and guidance against the model, for generation and for editing alike.
#pragma once

#include "ddpm/core/noise_predictor.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

class ModelPredictor {
 public:
  // labels: a class-conditional model's classes, int64 [n] (its null label: no class); undefined: every row
  // without a class. guidance: classifier-free guidance weight w (core/guidance.h). Throws
  // std::invalid_argument for classes or guidance asked of an unconditional model, or labels out of range.
  ModelPredictor(TrainedModel& model, torch::Tensor labels, int64_t n, double guidance, Precision precision);

  // ε for rows begin..end-1 of the request (the whole batch a sampler is given).
  NoisePredictor rows(int64_t begin, int64_t end) const;

  // Network rows per row of a batch: 2 with guidance (both predictions in one call), else 1.
  int64_t rows_per_sample() const { return guidance_ != 0 ? 2 : 1; }

 private:
  ClassNoisePredictor conditional_;  // a conditional model's
  NoisePredictor unconditional_;     // the others'
  torch::Tensor labels_;
  double guidance_ = 0;
  int64_t null_label_ = 0;
};

}  // namespace ddpm
