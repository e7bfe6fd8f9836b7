// Algorithm 1 with Ho et al.'s optimisation details, checkpoints and resume.
#include "training/trainer.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "core/random.h"
#include "data/data_spec.h"
#include "data/prefetcher.h"
#include "io/atomic_file.h"
#include "io/image_io.h"
#include "models/model_file.h"
#include "samplers/sampler.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "training/generate.h"
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

// In a group, `cuda` without an index means this machine's GPU number LOCAL_RANK.
torch::Device device_for_rank(const std::string& name, const std::optional<DataParallel>& parallel) {
  auto device = parse_device(name);
  if (parallel && device.is_cuda() && !device.has_index())
    device.set_index(static_cast<c10::DeviceIndex>(parallel->env.local_rank));
  return device;
}

std::shared_ptr<DistributedGroup> join_group(const std::optional<DataParallel>& parallel, const torch::Device& device) {
  if (!parallel) return nullptr;
  return DistributedGroup::join(parallel->env, device, parallel->timeout);
}

// The step's statistics as one tensor: [loss, loss sum by quarter of the t range (4), example count by
// quarter (4)], so that a data-parallel group averages them with the gradients (equal slices: the mean of
// the ranks' means is the global mean).
torch::Tensor step_summary(const GradientStep& grad, int64_t T) {
  auto summary = torch::zeros({9}, torch::kFloat64);
  summary[0] = grad.loss;
  auto quarter = torch::div(grad.t.to(torch::kCPU) * 4, T, "floor");  // integer t: 0..3
  auto losses = grad.per_example.detach().to(torch::kCPU, torch::kFloat64);
  summary.slice(0, 1, 5).index_add_(0, quarter, losses);
  summary.slice(0, 5, 9).index_add_(0, quarter, torch::ones_like(losses));
  return summary;
}

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

// A hash of the parameters' bytes, in order.
int64_t weights_fingerprint(const torch::nn::Module& module) {
  size_t h = 0;
  for (const auto& p : module.parameters()) {
    const auto cpu = p.detach().to(torch::kCPU).contiguous();
    const std::string_view bytes(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
    h = h * 1000003u ^ std::hash<std::string_view>{}(bytes);
  }
  return static_cast<int64_t>(h >> 2);
}

bool all_finite(const torch::nn::Module& module) {
  for (const auto& p : module.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace

Trainer::Trainer(TrainConfig config, std::string run_dir, bool choose_model, const std::optional<DataParallel>& parallel)
    : config_(std::move(config)),
      run_dir_(std::move(run_dir)),
      device_(device_for_rank(config_.device, parallel)),
      group_(join_group(parallel, device_)),
      schedule_(make_schedule(config_.schedule)),
      data_(load_dataset(config_.data, DataOptions{"train", config_.image_size, 0})),
      batches_(data_.size(), config_.batch * config_.accumulate, config_.seed, rank(), world_size()),
      ema_(config_.ema_decay, config_.ema_warmup),
      gen_(make_generator(config_.seed * 2 + 1, device_)) {
  check_training_settings(config_);
  if (config_.batch * config_.accumulate > data_.size())
    throw std::invalid_argument(fmt::format("batch {} x accumulate {} is larger than the data set ({} examples)",
                                            config_.batch, config_.accumulate, data_.size()));
  if (config_.batch % world_size() != 0)
    throw std::invalid_argument(fmt::format("batch {} cannot be split evenly over {} ranks", config_.batch, world_size()));
  if (config_.schedule.kind == "custom") record_betas(config_.schedule, schedule_);
  if (choose_model) config_.model = model_for_data(config_.preset, data_.sample_shape(), config_.unet_shape, &config_.preset);
  if (sample_shape(config_.model) != data_.sample_shape())
    throw std::invalid_argument(fmt::format("the network takes samples of shape [{}], the data's are [{}]",
                                            fmt::join(sample_shape(config_.model), ", "),
                                            fmt::join(data_.sample_shape(), ", ")));
  // The same seed gives the same initial weights (LibTorch initialises from the default generator), on
  // every rank of a group too.
  torch::manual_seed(config_.seed);
  net_ = build_model(config_.model);
  ema_net_ = build_model(config_.model);
  copy_weights(*ema_net_, *net_);
  for (auto& p : ema_net_->parameters()) p.requires_grad_(false);
  net_->to(device_);
  ema_net_->to(device_);
  ema_net_->eval();
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      net_->parameters(), torch::optim::AdamWOptions(config_.lr).weight_decay(config_.weight_decay));
}

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, const std::string& run_dir, bool choose_model,
                                         const std::optional<DataParallel>& parallel) {
  // The other ranks neither look at the folder (rank 0 may be creating it) nor write it; when rank 0
  // refuses, they fail at check_ranks_agree. A folder whose creation was killed before the step-0
  // checkpoint was complete holds nothing to keep (config.json is written after that checkpoint), so it
  // is reused rather than left unusable.
  const bool writer = !parallel || parallel->env.rank == 0;
  std::error_code ec;
  if (writer && (fs::exists(fs::path(run_dir) / "config.json", ec) || latest_checkpoint(run_dir)))
    throw std::invalid_argument(
        fmt::format("'{}' already holds a run; continue it with --resume {} or choose another --out", run_dir, run_dir));
  if (writer) fs::create_directories(run_dir);
  std::optional<TrainedModel> init;
  TrainConfig effective = config;
  if (effective.lr_decay_end == 0) effective.lr_decay_end = effective.steps;  // fixed now: see TrainConfig
  if (!config.init.empty()) {
    init = load_trained_model(config.init);
    effective.init = init->path;
    effective.preset.clear();  // the network is the one stored with the weights
    effective.model = init->config;
    effective.schedule = init->schedule;
    choose_model = false;
  }
  std::unique_ptr<Trainer> trainer(new Trainer(effective, run_dir, choose_model, parallel));
  if (init) {
    copy_weights(*trainer->net_, *init->net);
    copy_weights(*trainer->ema_net_, *init->net);
  }
  if (writer) {
    trainer->save_checkpoint();  // step 0: a run is resumable from the moment it exists
    write_file_atomically((fs::path(run_dir) / "config.json").string(), nlohmann::json(trainer->config_).dump(2) + "\n");
  }
  trainer->check_ranks_agree();
  return trainer;
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& run_dir, std::optional<int64_t> total_steps,
                                         const std::optional<DataParallel>& parallel) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) throw std::invalid_argument(fmt::format("no run folder at '{}'", run_dir));
  auto latest = latest_checkpoint(run_dir);
  if (!latest)
    throw std::invalid_argument(fmt::format("'{}' has no complete checkpoint to resume from", run_dir));
  auto state = read_checkpoint(*latest).state;
  TrainConfig config = state.at("config").get<TrainConfig>();
  if (total_steps) config.steps = *total_steps;
  std::unique_ptr<Trainer> trainer(new Trainer(config, run_dir, false, parallel));
  trainer->restore(*latest);
  trainer->check_ranks_agree();
  return trainer;
}

void Trainer::check_ranks_agree() {
  if (!group_) return;
  group_->check_same(step_, "the step to start from (every rank must read the same run folder)");
  // Identical configurations, hence identical initial weights and data order.
  const auto config_hash = static_cast<int64_t>(std::hash<std::string>{}(nlohmann::json(config_).dump()) >> 2);
  group_->check_same(config_hash, "the run configuration (start every rank with the same flags)");
  // The weights are never broadcast, so ranks that read different files (--init, or a checkpoint on
  // machines without a shared file system) must be stopped here.
  group_->check_same(weights_fingerprint(*net_),
                     "the starting weights (every rank must read the same --init file or run folder)");
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
  const double lr = lr_at(lr_schedule_of(config_), step_);
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

void Trainer::reseed_dropout() {
  // A rank's checkpointed generator state is rank 0's, so in a group every rank derives its dropout masks
  // from (run seed, rank, step) instead: different on each rank, and the same again after a resume.
  auto gen = default_generator(device_);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(derive_seed(derive_seed(config_.seed, static_cast<uint64_t>(rank())), static_cast<uint64_t>(step_)));
}

void Trainer::average_across_ranks(torch::Tensor& summary) {
  // One all-reduce per step: every gradient and the step's summary in a single flat buffer.
  auto params = net_->parameters();
  std::vector<torch::Tensor> parts;
  for (auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    parts.push_back(p.grad().flatten());
  }
  parts.push_back(summary.to(parts.front().options()));
  auto flat = torch::cat(parts);
  try {
    group_->average(flat, fmt::format("averaging the gradients of step {}", step_ + 1));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}; the last checkpoint in {} is kept: start every rank again with --resume {}",
                                         e.what(), run_dir_, run_dir_));
  }
  int64_t at = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    p.grad().copy_(flat.slice(0, at, at + p.numel()).view_as(p));
    at += p.numel();
  }
  summary = flat.slice(0, at).to(torch::kCPU, torch::kFloat64);
}

StepStats Trainer::train_step() {
  StepStats stats;
  // The next batch was prepared on the prefetcher's thread while the previous step ran.
  if (!prefetcher_)
    prefetcher_ = std::make_unique<BatchPrefetcher>(data_, batches_, config_.random_flip && data_.is_image());
  auto batch = prefetcher_->next();
  batches_.set_state(batch.next);  // the position a checkpoint resumes from: right after this batch
  auto x0 = batch.x.to(device_);
  GradientOptions options;
  options.grad_clip = config_.grad_clip;
  options.global_batch = config_.batch * config_.accumulate;
  options.offset = rank() * x0.size(0);
  options.micro_batches = config_.accumulate;
  if (loss_hook) options.loss_hook = [this](const torch::Tensor& loss) { return loss_hook(loss, step_ + 1); };
  torch::Tensor summary;
  options.before_clip = [&](const GradientStep& grad) {
    summary = step_summary(grad, schedule_.T);
    if (group_) average_across_ranks(summary);
  };
  if (group_) reseed_dropout();
  const auto grad = compute_gradient(*net_, *optimizer_, schedule_, x0, gen_, options);
  stats.loss = summary[0].item<double>();
  stats.grad_norm = grad.grad_norm;
  stats.step = ++step_;
  stats.batch = config_.batch * config_.accumulate;
  apply_lr();  // the rate of step step_ (1-based), the one about to be taken
  stats.lr = static_cast<torch::optim::AdamWOptions&>(optimizer_->param_groups()[0].options()).lr();
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
  if (writes_run()) ema_.update(*ema_net_, *net_);  // the other ranks never save or sample it

  // Loss by quarter of the t range: where in the chain the network is still weak.
  for (int64_t q = 0; q < 4; ++q) {
    const double count = summary[5 + q].item<double>();
    stats.loss_by_quarter[q] = count > 0 ? summary[1 + q].item<double>() / count : std::numeric_limits<double>::quiet_NaN();
  }
  return stats;
}

std::string Trainer::save_checkpoint() {
  if (!writes_run()) throw std::logic_error("only rank 0 writes checkpoints");
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
  if (!writes_run()) throw std::logic_error("only rank 0 writes sample grids");
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
    if (writes_run())
      std::fprintf(stderr, "run is already at step %lld of %lld: nothing to do\n", static_cast<long long>(step_),
                 static_cast<long long>(config_.steps));
    return;
  }
  if (!writes_run()) {  // the others only take the steps; rank 0 reports and writes
    while (step_ < config_.steps) train_step();
    return;
  }
  TrainProgress progress(step_, config_.steps, live_progress);
  MetricsLog metrics(run_dir_, step_);
  const auto batch_note = group_ ? fmt::format("{} ({} ranks × {})", config_.batch, world_size(), config_.batch / world_size())
                                : std::to_string(config_.batch);
  progress.note(fmt::format("training {} ({}) on {} for steps {}..{}, batch {}, device {}", config_.preset.empty() ? config_.model.arch : config_.preset,
                            fmt::format("{} parameters", parameter_count(*net_)), data_.name, step_ + 1, config_.steps,
                            batch_note, device_.str()));
  int64_t last_checkpoint = step_;
  while (step_ < config_.steps) {
    const auto stats = train_step();
    progress.step(stats.step, stats.loss, stats.batch);
    if (stats.skipped)
      progress.note(fmt::format("step {}: non-finite loss or gradient, step skipped ({} skipped in this run so far, "
                                "{} in a row; training stops at {} in a row)",
                                stats.step, skipped_total_, bad_in_row_, config_.max_bad_steps));
    if (stats.step % config_.log_every == 0 || stats.step == 1 || stats.skipped) {
      nlohmann::json quarters = nlohmann::json::array();
      for (double q : stats.loss_by_quarter) quarters.push_back(std::isfinite(q) ? nlohmann::json(q) : nlohmann::json());
      metrics.write({{"step", stats.step}, {"loss", std::isfinite(stats.loss) ? nlohmann::json(stats.loss) : nlohmann::json()},
                     {"loss_by_t_quarter", quarters}, {"grad_norm", std::isfinite(stats.grad_norm) ? nlohmann::json(stats.grad_norm) : nlohmann::json()},
                     {"lr", stats.lr}, {"ema_decay", stats.ema_decay}, {"images_per_s", progress.images_per_second()},
                     {"skipped", stats.skipped}, {"skipped_total", skipped_total_}});
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
