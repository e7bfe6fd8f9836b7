#include "ddpm/inference/model_predictor.h"

#include "ddpm/core/guidance.h"
#include "ddpm/inference/network_predictor.h"

namespace ddpm {

ModelPredictor::ModelPredictor(TrainedModel& model, torch::Tensor labels, int64_t n, double guidance, Precision precision)
    : labels_(std::move(labels)), guidance_(guidance), null_label_(model.config.num_classes()) {
  if (!model.config.conditional()) {
    if (labels_.defined() || guidance != 0)
      throw std::invalid_argument("classes and guidance need a class-conditional model; this one was trained without classes");
    unconditional_ = network_predictor(*model.net, model.schedule, precision);
    return;
  }
  if (!labels_.defined()) labels_ = torch::full({n}, null_label_, torch::kLong);
  check_class_labels(labels_, n, null_label_, "samples");
  conditional_ = network_class_predictor(*model.net, model.schedule, precision);
}

NoisePredictor ModelPredictor::rows(int64_t begin, int64_t end) const {
  if (!conditional_) return unconditional_;
  return class_guided_predictor(conditional_, labels_.slice(0, begin, end), guidance_, null_label_);
}

}  // namespace ddpm
