// The MLP's row of the model-kind table: a small network for d-dimensional points.
#include "ddpm/models/config_fields.h"
#include "ddpm/models/mlp.h"
#include "ddpm/models/model_kind.h"

namespace ddpm {
namespace {

nlohmann::json mlp_to_json(const ModelConfig& c) {
  const auto& m = c.mlp;
  return {{"data_dim", m.data_dim}, {"hidden", m.hidden}, {"depth", m.depth}, {"time_embed_dim", m.time_embed_dim}};
}

void mlp_from_json(const nlohmann::json& m, ModelConfig& c) {
  const std::string w = "model_config.mlp";
  check_keys(m, w, {"data_dim", "hidden", "depth", "time_embed_dim"});
  c.mlp.data_dim = field<int64_t>(m, w, "data_dim");
  c.mlp.hidden = field<int64_t>(m, w, "hidden");
  c.mlp.depth = field<int64_t>(m, w, "depth");
  c.mlp.time_embed_dim = field<int64_t>(m, w, "time_embed_dim");
}

void mlp_fit_to_data(ModelConfig& c, const std::vector<int64_t>& shape) {
  if (shape.size() != 1) throw std::invalid_argument("an MLP takes points; images need a U-Net preset");
  c.mlp.data_dim = shape[0];
}

std::string mlp_describe(const ModelConfig& c) {
  return fmt::format("MLP  data dim {}  hidden {} x {}  time embedding {}", c.mlp.data_dim, c.mlp.depth, c.mlp.hidden,
                     c.mlp.time_embed_dim);
}

}  // namespace

const ModelKind kMLPKind = {
    "mlp",
    "mlp: a time-conditioned MLP for d-dimensional points",
    /*images=*/false,
    /*bf16_pays=*/false,  // 128-wide layers: the casts cost more than bf16 saves (0.4-1.0x)
    [](const ModelConfig& c) -> NoiseNet { return std::make_shared<MLPImpl>(c.mlp, c.num_classes()); },
    [](const ModelConfig& c) { return mlp_flops(c.mlp); },
    [](const ModelConfig& c) { return mlp_parameters(c.mlp, c.num_classes()); },
    [](const ModelConfig& c, bool training) { return mlp_activation_bytes(c.mlp, training); },
    [](const ModelConfig& c) { return std::vector<int64_t>{c.mlp.data_dim}; },
    mlp_fit_to_data,
    mlp_to_json,
    mlp_from_json,
    mlp_describe,
};

}  // namespace ddpm
