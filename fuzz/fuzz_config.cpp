// Fuzz target: the JSON configuration readers. The same text is read as a run's configuration (config.json
// and the "config" of a checkpoint's state.json, as `ddpm train --resume` does), as the model config stored
// in a model file's metadata, as a schedule config, and as a gmm:FILE.json mixture. Each read succeeds or
// throws a std::exception (which the CLI prints as one error line); anything else is a finding.
#include <stdexcept>

#include "ddpm/analytic/gaussian_mixture.h"
#include "fuzz_input.h"
#include "ddpm/models/model_config.h"
#include "ddpm/training/train_config.h"

namespace {

template <typename T>
void read_as(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    (void)j.get<T>();
    if (j.is_object() && j.contains("config")) (void)j.at("config").get<T>();
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  read_as<ddpm::TrainConfig>(text);
  read_as<ddpm::ModelConfig>(text);
  read_as<ddpm::ScheduleConfig>(text);
  try {
    ddpm::read_mixture_json(ddpm::fuzz::write_input("mixture.json", data, size));
  } catch (const std::exception&) {
  }
  return 0;
}
