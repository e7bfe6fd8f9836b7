// The model kinds by name: one row per kind (models/model_kind.h), so the rest of ddpm never compares
// ModelConfig::arch itself.
#include <fmt/ranges.h>

#include <stdexcept>

#include "ddpm/io/text.h"
#include "ddpm/models/config_fields.h"
#include "ddpm/models/model_kind.h"

namespace ddpm {
namespace {

const ModelKind* const kModelKinds[] = {&kUNetKind, &kMLPKind};

}  // namespace

const ModelKind& model_kind(const std::string& arch) {
  for (const auto* kind : kModelKinds)
    if (arch == kind->arch) return *kind;
  std::vector<std::string> quoted;
  for (const auto& name : model_kinds()) quoted.push_back(fmt::format("\"{}\"", name));
  throw std::invalid_argument(fmt::format("model config: arch must be {}, got \"{}\"", fmt::join(quoted, " or "), arch));
}

std::vector<std::string> model_kinds() { return column(kModelKinds, &ModelKind::arch); }

std::vector<std::string> model_kind_help() { return column(kModelKinds, &ModelKind::help); }

NoiseNet build_model(const ModelConfig& config) {
  auto net = model_kind(config.arch).build(config);
  net->set_prediction(config.prediction);
  return net;
}

std::vector<int64_t> sample_shape(const ModelConfig& config) { return model_kind(config.arch).sample_shape(config); }

bool samples_are_images(const ModelConfig& config) { return model_kind(config.arch).images; }

Precision choose_precision(const std::string& name, c10::Device device, const ModelConfig& config) {
  return resolve_precision(name, device, model_kind(config.arch).bf16_pays);
}

std::string describe_model(const ModelConfig& config) {
  auto line = model_kind(config.arch).describe(config);
  if (config.conditional()) line += fmt::format("  classes {} (+ none)", config.num_classes());
  if (config.prediction != Prediction::epsilon) line += "  predicts " + to_string(config.prediction);
  return line;
}

ModelConfig fit_to_data(ModelConfig config, const std::vector<int64_t>& shape) {
  model_kind(config.arch).fit_to_data(config, shape);
  return config;
}

void to_json(nlohmann::json& j, const ModelConfig& c) {
  j = nlohmann::json{{"arch", c.arch}};
  j[c.arch] = model_kind(c.arch).to_json(c);
  if (c.conditional()) j["class_names"] = c.class_names;  // absent: unconditional, as every file before classes
  if (c.prediction != Prediction::epsilon) j["prediction"] = to_string(c.prediction);  // absent: ε, as before
}

void from_json(const nlohmann::json& j, ModelConfig& c) {
  std::set<std::string> known = {"arch", "class_names", "prediction"};
  for (const auto& name : model_kinds()) known.insert(name);
  check_keys(j, "model_config", known);
  c.arch = field<std::string>(j, "model_config", "arch");
  const auto& kind = model_kind(c.arch);
  kind.from_json(field<nlohmann::json>(j, "model_config", c.arch), c);
  c.class_names = j.contains("class_names") ? field<std::vector<std::string>>(j, "model_config", "class_names")
                                            : std::vector<std::string>{};
  check_class_names(c.class_names, "model_config.class_names");
  try {
    c.prediction = j.contains("prediction") ? parse_prediction(field<std::string>(j, "model_config", "prediction"))
                                            : Prediction::epsilon;
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("model_config.prediction: ") + e.what());
  }
}

}  // namespace ddpm
