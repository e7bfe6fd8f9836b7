// Algorithm 1 with Ho et al.'s optimisation details, checkpoints and resume.
#include "training/trainer.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "core/random.h"
#include "data/data_spec.h"
#include "data/prefetcher.h"
#include "io/image_io.h"
#include "models/model_file.h"
#include "samplers/sampler.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "training/gradient_step.h"
#include "training/model_choice.h"
#include "training/optimizer_state.h"
#include "training/progress.h"
#include "training/network_predictor.h"
#include "training/trained_model.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

constexpr int kStateFormat = 1;
constexpr const char* kRngPrefix = "rng.";
constexpr int64_t kGridImages = 36;

// Dropout draws from the device's default generator, which LibTorch does not let us replace; its state is
// saved and restored so that resumed runs repeat the same dropout masks.
at::Generator default_generator(const torch::Device& device) {
  return at::globalContext().defaultGenerator(device.is_cuda() ? device : torch::Device(torch::kCPU));
}

torch::Tensor generator_state(at::Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state().clone();
}

void set_generator_state(at::Generator& gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void copy_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  auto dst = to.parameters();
  auto src = from.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  auto dst_b = to.buffers();
  auto src_b = from.buffers();
  for (size_t i = 0; i < src_b.size(); ++i) dst_b[i].copy_(src_b[i]);
}

bool all_finite(const torch::nn::Module& module) {
  for (const auto& p : module.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace

Trainer::Trainer(TrainConfig config, std::string run_dir, bool choose_model)
    : config_(std::move(config)),
      run_dir_(std::move(run_dir)),
      device_(parse_device(config_.device)),
      schedule_(make_schedule(config_.schedule)),
      data_(load_dataset(config_.data, DataOptions{"train", config_.image_size, 0})),
      batches_(data_.size(), config_.batch, config_.seed),
      ema_(config_.ema_decay),
      gen_(make_generator(config_.seed * 2 + 1, device_)) {
  if (config_.batch < 1) throw std::invalid_argument("batch must be >= 1");
  if (config_.batch > data_.size())
    throw std::invalid_argument(fmt::format("batch {} is larger than the data set ({} examples)", config_.batch, data_.size()));
  if (choose_model) config_.model = model_for_data(config_.preset, data_.sample_shape(), &config_.preset);
  // The same seed gives the same initial weights (LibTorch initialises from the default generator).
  torch::manual_seed(config_.seed);
  net_ = build_model(config_.model);
  ema_net_ = build_model(config_.model);
  copy_weights(*ema_net_, *net_);
  for (auto& p : ema_net_->parameters()) p.requires_grad_(false);
  net_->to(device_);
  ema_net_->to(device_);
  ema_net_->eval();
  optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(config_.lr));
}

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, const std::string& run_dir, bool choose_model) {
  std::error_code ec;
  if (fs::exists(fs::path(run_dir) / "config.json", ec) || fs::exists(checkpoints_dir(run_dir), ec))
    throw std::invalid_argument(
        fmt::format("'{}' already holds a run; continue it with --resume {} or choose another --out", run_dir, run_dir));
  fs::create_directories(run_dir);
  std::unique_ptr<Trainer> trainer(new Trainer(config, run_dir, choose_model));
  std::ofstream(fs::path(run_dir) / "config.json") << nlohmann::json(trainer->config_).dump(2) << "\n";
  trainer->save_checkpoint();  // step 0: a run is resumable from the moment it exists
  return trainer;
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& run_dir, std::optional<int64_t> total_steps) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) throw std::invalid_argument(fmt::format("no run folder at '{}'", run_dir));
  auto latest = latest_checkpoint(run_dir);
  if (!latest)
    throw std::invalid_argument(fmt::format("'{}' has no complete checkpoint to resume from", run_dir));
  auto state = read_checkpoint(*latest).state;
  TrainConfig config = state.at("config").get<TrainConfig>();
  if (total_steps) config.steps = *total_steps;
  std::unique_ptr<Trainer> trainer(new Trainer(config, run_dir, false));
  trainer->restore(*latest);
  return trainer;
}

void Trainer::restore(const std::string& checkpoint_dir) {
  auto data = read_checkpoint(checkpoint_dir);
  const auto& state = data.state;
  if (state.value("format", 0) != kStateFormat)
    throw std::runtime_error(fmt::format("checkpoint '{}' has an unknown format", checkpoint_dir));
  load_weights_into(*net_, data.model, checkpoint_dir + "/model.safetensors");
  load_weights_into(*ema_net_, data.ema, checkpoint_dir + "/ema.safetensors");
  std::map<std::string, torch::Tensor> adam;
  std::map<std::string, torch::Tensor> rng;
  for (auto& [name, tensor] : data.optimizer.tensors)
    (name.rfind(kRngPrefix, 0) == 0 ? rng : adam)[name] = tensor;
  load_adam_state(*optimizer_, *net_, adam);
  auto need = [&](const std::string& name) {
    auto it = rng.find(name);
    if (it == rng.end()) throw std::runtime_error(fmt::format("checkpoint '{}' lacks {}", checkpoint_dir, name));
    return it->second;
  };
  set_generator_state(gen_, need("rng.trainer"));
  auto dropout_gen = default_generator(device_);
  set_generator_state(dropout_gen, need("rng.default"));
  batches_.load_json(state.at("sampler"));
  prefetcher_.reset();  // restart the prefetcher at the restored data position
  ema_.set_updates(state.at("ema_updates").get<int64_t>());
  step_ = state.at("step").get<int64_t>();
  bad_in_row_ = state.at("bad_in_row").get<int64_t>();
  skipped_total_ = state.at("skipped_total").get<int64_t>();
}

void Trainer::apply_lr() {
  const double scale = config_.warmup > 0 ? std::min(1.0, static_cast<double>(step_ + 1) / config_.warmup) : 1.0;
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(config_.lr * scale);
}

StepStats Trainer::train_step() {
  StepStats stats;
  // The next batch was prepared on the prefetcher's thread while the previous step ran.
  if (!prefetcher_)
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_, batches_, config_.random_flip && data_.is_image());
  auto batch = prefetcher_->next();
  batches_.set_state(batch.next);  // the position a checkpoint resumes from: right after this batch
  auto x0 = batch.x.to(device_);
  LossHook hook;
  if (loss_hook) hook = [this](const torch::Tensor& loss) { return loss_hook(loss, step_ + 1); };
  const auto grad = compute_gradient(*net_, *optimizer_, schedule_, x0, gen_, config_.grad_clip, hook);
  stats.loss = grad.loss;
  stats.grad_norm = grad.grad_norm;
  stats.step = ++step_;
  stats.batch = x0.size(0);
  apply_lr();
  stats.lr = static_cast<torch::optim::AdamOptions&>(optimizer_->param_groups()[0].options()).lr();
  stats.ema_decay = ema_.current_decay();

  if (!std::isfinite(stats.loss) || !std::isfinite(stats.grad_norm)) {
    optimizer_->zero_grad();
    stats.skipped = true;
    ++skipped_total_;
    if (++bad_in_row_ >= config_.max_bad_steps)
      throw std::runtime_error(fmt::format(
          "training stopped at step {}: {} non-finite losses or gradients in a row (loss {}, gradient norm {}); "
          "the last checkpoint is kept — lower --lr or check the data",
          step_, bad_in_row_, stats.loss, stats.grad_norm));
    return stats;
  }
  bad_in_row_ = 0;
  optimizer_->step();
  ema_.update(*ema_net_, *net_);

  // Loss by quarter of the t range: where in the chain the network is still weak.
  auto losses = grad.per_example.detach().to(torch::kCPU, torch::kFloat64);
  auto quarter = torch::div(grad.t.to(torch::kCPU) * 4, schedule_.T, "floor");  // integer t: 0..3
  for (int64_t q = 0; q < 4; ++q) {
    auto mask = quarter.eq(q);
    stats.loss_by_quarter[q] =
        mask.any().item<bool>() ? losses.masked_select(mask).mean().item<double>() : std::numeric_limits<double>::quiet_NaN();
  }
  return stats;
}

std::string Trainer::save_checkpoint() {
  if (!all_finite(*net_) || !all_finite(*ema_net_))
    throw std::runtime_error(fmt::format("refusing to checkpoint non-finite weights at step {}", step_));
  CheckpointData data;
  data.model = trained_model_content(*net_, config_.model, config_.schedule, step_);
  data.ema = trained_model_content(*ema_net_, config_.model, config_.schedule, step_);
  data.optimizer.tensors = adam_state_tensors(*optimizer_, *net_);
  data.optimizer.tensors.emplace_back("rng.trainer", generator_state(gen_));
  auto dropout_gen = default_generator(device_);
  data.optimizer.tensors.emplace_back("rng.default", generator_state(dropout_gen));
  data.state = {{"format", kStateFormat},        {"step", step_},
                {"config", config_},             {"sampler", batches_.to_json()},
                {"ema_updates", ema_.updates()}, {"bad_in_row", bad_in_row_},
                {"skipped_total", skipped_total_}};
  auto dir = write_checkpoint(run_dir_, step_, data);
  prune_checkpoints(run_dir_, config_.keep);
  return dir;
}

std::string Trainer::save_sample_grid() {
  if (!data_.is_image()) return "";
  auto shape = data_.sample_shape();
  shape.insert(shape.begin(), kGridImages);
  // The same noise at every grid (its own seed, independent of training), so grids are comparable.
  auto noise_gen = make_generator(config_.seed + 0x5eed, device_);
  auto x_T = torch::randn(shape, noise_gen, torch::TensorOptions().device(device_));
  SamplerSpec spec;
  spec.steps = std::min(config_.sample_steps, schedule_.T);
  spec.clip_x0 = true;
  auto x0 = run_sampler(schedule_, network_predictor(*ema_net_), x_T, noise_gen, spec);
  const auto path = (fs::path(run_dir_) / "samples" / fmt::format("step-{:08d}.png", step_)).string();
  fs::create_directories(fs::path(path).parent_path());
  save_image_grid(path, x0.to(torch::kCPU), 6, 2, /*scale=*/0);
  return path;
}

void Trainer::run(bool live_progress) {
  if (step_ >= config_.steps) {
    std::fprintf(stderr, "run is already at step %lld of %lld: nothing to do\n", static_cast<long long>(step_),
                 static_cast<long long>(config_.steps));
    return;
  }
  TrainProgress progress(step_, config_.steps, live_progress);
  MetricsLog metrics(run_dir_, step_);
  progress.note(fmt::format("training {} ({}) on {} for steps {}..{}, batch {}, device {}", config_.preset.empty() ? config_.model.arch : config_.preset,
                            fmt::format("{} parameters", parameter_count(*net_)), data_.name, step_ + 1, config_.steps,
                            config_.batch, device_.str()));
  int64_t last_checkpoint = step_;
  while (step_ < config_.steps) {
    const auto stats = train_step();
    progress.step(stats.step, stats.loss, stats.batch);
    if (stats.skipped) progress.note(fmt::format("step {}: non-finite loss or gradient, step skipped", stats.step));
    if (stats.step % config_.log_every == 0 || stats.step == 1 || stats.skipped) {
      nlohmann::json quarters = nlohmann::json::array();
      for (double q : stats.loss_by_quarter) quarters.push_back(std::isfinite(q) ? nlohmann::json(q) : nlohmann::json());
      metrics.write({{"step", stats.step}, {"loss", std::isfinite(stats.loss) ? nlohmann::json(stats.loss) : nlohmann::json()},
                     {"loss_by_t_quarter", quarters}, {"grad_norm", std::isfinite(stats.grad_norm) ? nlohmann::json(stats.grad_norm) : nlohmann::json()},
                     {"lr", stats.lr}, {"ema_decay", stats.ema_decay}, {"images_per_s", progress.images_per_second()},
                     {"skipped", stats.skipped}});
    }
    if (config_.sample_every > 0 && stats.step % config_.sample_every == 0) {
      const auto grid = save_sample_grid();
      if (!grid.empty()) progress.note("samples: " + grid);
    }
    if (config_.checkpoint_every > 0 && stats.step % config_.checkpoint_every == 0) {
      progress.note("checkpoint: " + save_checkpoint());
      last_checkpoint = stats.step;
    }
  }
  if (last_checkpoint != step_) progress.note("checkpoint: " + save_checkpoint());
  if (config_.sample_every > 0 && step_ % config_.sample_every != 0) {
    const auto grid = save_sample_grid();
    if (!grid.empty()) progress.note("samples: " + grid);
  }
  progress.finish();
  if (skipped_total_ > 0) std::fprintf(stderr, "%lld non-finite steps were skipped\n", static_cast<long long>(skipped_total_));
}

}  // namespace ddpm
