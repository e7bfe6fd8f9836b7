// The class embedding shared by the conditional networks (see noise_net.h).
#include <fmt/format.h>

#include "ddpm/core/guidance.h"
#include "ddpm/models/noise_net.h"

namespace ddpm {

torch::Tensor class_embedding_of(torch::nn::Embedding& embedding, int64_t classes, const torch::Tensor& labels,
                                 int64_t batch, const char* network) {
  if (classes == 0) {
    TORCH_CHECK(!labels.defined(), network, ": class labels given to a network trained without classes");
    return {};
  }
  TORCH_CHECK(labels.defined(), network, ": a class-conditional network needs class labels (", classes,
              " for no class)");
  check_class_labels(labels, batch, classes, network);
  return embedding(labels);
}

}  // namespace ddpm
