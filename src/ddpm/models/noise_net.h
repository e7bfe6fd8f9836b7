// The common interface of every noise-prediction network ε_θ(x_t, t) (Ho et al. 2020, §3.2 and eq. 11).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>

#include "ddpm/core/prediction.h"

namespace ddpm {

class NoiseNetImpl : public torch::nn::Module {
 public:
  // x_t: [B, ...] (images [B, C, H, W]; points [B, d]); t: int64 [B], 0-based step indices; labels: for a
  // class-conditional network int64 [B] in 0..K (K, the null label: no class), undefined for the others.
  // Returns the prediction (ε̂ unless prediction() says otherwise) with x_t's shape.
  virtual torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& labels = {}) = 0;
  // K for a class-conditional network (its null label), 0 for the others.
  int64_t classes() const { return classes_; }
  // What forward() returns: ε̂ (the default), or x̂_0 or v̂ (core/prediction.h; build_model sets it from the config).
  Prediction prediction() const { return prediction_; }
  void set_prediction(Prediction prediction) { prediction_ = prediction; }

 protected:
  explicit NoiseNetImpl(int64_t classes) : classes_(classes) {}

 private:
  int64_t classes_;
  Prediction prediction_ = Prediction::epsilon;
};

using NoiseNet = std::shared_ptr<NoiseNetImpl>;

// The embedding a class-conditional network adds to its time embedding: K + 1 rows (the last: the null
// label of classifier-free guidance, Ho & Salimans 2021), diffusers' `class_embedding` with num_class_embeds
// = K + 1. Returns it [B, dim] for `labels` after checking them against `classes` = K; with no classes
// (an unconditional network) labels must be undefined and the result is undefined. `network` names the
// caller in errors.
torch::Tensor class_embedding_of(torch::nn::Embedding& embedding, int64_t classes, const torch::Tensor& labels,
                                 int64_t batch, const char* network);

}  // namespace ddpm
