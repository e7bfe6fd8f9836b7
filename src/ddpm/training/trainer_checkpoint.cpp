// What a Trainer's checkpoint holds and how a resumed Trainer takes it back: the raw and EMA weights (each a
// loadable model file), Adam's state, the random-number state, the data position and the counters, so that
// a resumed run continues bit-identically.
#include <stdexcept>

#include "ddpm/inference/trained_model.h"
#include "ddpm/io/json_number.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/model_file.h"
#include "ddpm/models/module_weights.h"
#include "ddpm/training/optimizer_state.h"
#include "ddpm/training/rng_state.h"
#include "ddpm/training/trainer.h"

namespace ddpm {
namespace {

constexpr int kStateFormat = 1;

}  // namespace

std::string Trainer::save_checkpoint() {
  if (!writes_run()) throw std::logic_error("only rank 0 writes checkpoints");
  if (!all_finite(*net_) || !all_finite(*ema_net_))
    throw std::runtime_error(fmt::format("refusing to checkpoint non-finite weights at step {}", step_));
  CheckpointData data;
  data.model = trained_model_content(*net_, config_.model, config_.schedule, step_, config_.init_steps);
  data.ema = trained_model_content(*ema_net_, config_.model, config_.schedule, step_, config_.init_steps);
  data.optimizer.tensors = adam_state_tensors(*optimizer_, *net_);
  for (auto& entry : rng_state_tensors(gen_, device_)) data.optimizer.tensors.push_back(std::move(entry));
  data.optimizer.metadata[kStepKey] = std::to_string(step_);
  data.state = {{"format", kStateFormat},        {"step", step_},
                {"config", config_},             {"batch_order", batches_.to_json()},
                {"ema_updates", ema_.updates()}, {"bad_in_row", bad_in_row_},
                {"skipped_total", skipped_total_}, {"config_digest", config_digest_},
                {"loss_average", finite_or_null(loss_average_.value)}};
  auto dir = write_checkpoint(run_dir_, step_, data);
  prune_checkpoints(run_dir_, config_.keep);
  return dir;
}

void Trainer::restore(const CheckpointData& data, const std::string& checkpoint_dir) {
  // Whatever a checkpoint holds that cannot be restored (a JSON field of the wrong type, a generator state
  // LibTorch refuses, a data position out of range) is one error naming the checkpoint.
  try {
    restore_state(data, checkpoint_dir);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("cannot resume from checkpoint '{}': {}", checkpoint_dir, e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("cannot resume from checkpoint '{}': state.json: {}", checkpoint_dir, e.what()));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("cannot resume from checkpoint '{}': {}", checkpoint_dir, e.what()));
  }
}

void Trainer::restore_state(const CheckpointData& data, const std::string& checkpoint_dir) {
  const auto& state = data.state;
  if (state.value("format", 0) != kStateFormat)
    throw std::runtime_error(fmt::format("checkpoint '{}' has an unknown format", checkpoint_dir));
  load_weights_into(*net_, data.model, checkpoint_dir + "/model.safetensors");
  load_weights_into(*ema_net_, data.ema, checkpoint_dir + "/ema.safetensors");
  std::map<std::string, torch::Tensor> adam;
  std::map<std::string, torch::Tensor> rng;
  for (auto& [name, tensor] : data.optimizer.tensors) {
    if (!torch::isfinite(tensor).all().item<bool>())
      throw std::runtime_error(fmt::format("{}/optimizer.safetensors: tensor \"{}\" holds NaN or infinite values",
                                           checkpoint_dir, name));
    (is_rng_state(name) ? rng : adam)[name] = tensor;
  }
  load_adam_state(*optimizer_, *net_, adam);
  restore_rng_states(rng, gen_, device_, checkpoint_dir);
  // "sampler" in checkpoints written before the data order was named apart from the diffusion samplers.
  batches_.load_json(state.contains("batch_order") ? state.at("batch_order") : state.at("sampler"));
  prefetcher_.reset();  // restart the prefetcher at the restored data position
  ema_.set_updates(state.at("ema_updates").get<int64_t>());
  step_ = state.at("step").get<int64_t>();
  bad_in_row_ = state.at("bad_in_row").get<int64_t>();
  skipped_total_ = state.at("skipped_total").get<int64_t>();
  config_digest_ = state.at("config_digest").get<std::string>();
  // Absent from checkpoints written before it was kept; null while no step had a finite loss.
  if (state.contains("loss_average") && state["loss_average"].is_number())
    loss_average_.value = state["loss_average"].get<double>();
}

}  // namespace ddpm
