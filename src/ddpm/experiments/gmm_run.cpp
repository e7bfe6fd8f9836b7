#include "ddpm/experiments/gmm_run.h"

#include <filesystem>
#include <optional>

#include "ddpm/experiments/gmm_figures.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/io/output_path.h"
#include "ddpm/training/trainer.h"

namespace ddpm {
namespace {

// Trains (or, if OUT/model already holds a run, resumes to the requested steps) the MLP on the mixture.
std::string train_mixture_model(const GmmRunOptions& options) {
  const std::string run_dir = options.out + "/model";
  TrainConfig c;
  c.data = "gmm:" + options.config.mixture;
  c.preset = "mlp-2d";
  c.schedule = options.config.schedule;
  c.steps = options.train_steps;
  c.batch = 256;
  c.lr = 1e-3;
  c.warmup = 100;
  c.ema_decay = 0.999;
  c.seed = options.config.seed;
  c.conditional = options.conditional;
  c.sample_every = 0;
  c.checkpoint_every = 0;
  c.log_every = 100;
  auto trainer = std::filesystem::exists(run_dir) ? Trainer::resume(run_dir, c.steps) : Trainer::create(c, run_dir);
  // Checked before a step is taken: a run of the other kind is left as it was.
  if (trainer->config().conditional != options.conditional)
    throw std::invalid_argument(fmt::format("{} holds a run {} classes; give another output folder", run_dir,
                                            options.conditional ? "without" : "with"));
  trainer->run(false);
  return run_dir;
}

// The tensors here are small ([n, K, d] with d = 2); intra-op threads only add synchronisation, which on
// the shared 2-core machine made the run 5-10x slower than one thread. Restores the caller's setting.
class SingleThreadScope {
 public:
  SingleThreadScope() : previous_(torch::get_num_threads()) { torch::set_num_threads(1); }
  ~SingleThreadScope() { torch::set_num_threads(previous_); }
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace

GmmRunResult run_gmm(const GmmRunOptions& options) {
  std::error_code ec;
  const bool mixture_file = std::filesystem::is_regular_file(options.config.mixture, ec);
  check_output_folder(options.out, {mixture_file ? std::vector<std::string>{options.config.mixture} : std::vector<std::string>{},
                                    options.replace});
  SingleThreadScope single_thread;
  std::filesystem::create_directories(options.out);
  std::optional<NoisePredictor> learned;
  TrainedModel model;
  std::optional<ClassNoisePredictor> learned_classes;
  if (options.train_steps > 0) {
    model = load_trained_model(train_mixture_model(options));
    learned = network_predictor(*model.net, model.schedule);  // of a conditional network: its prediction without a class
    if (options.conditional) learned_classes = network_class_predictor(*model.net, model.schedule);
  }
  GmmRunResult result;
  result.report = run_gmm_experiment(options.config, learned);
  const auto mixture = load_mixture(options.config.mixture);
  if (options.conditional) {
    auto classes = options.classes;
    classes.seed = options.config.seed;
    classes.projections = options.config.projections;
    classes.samples = std::min(classes.samples, options.config.samples);
    result.classes = run_class_guidance(mixture, make_schedule(options.config.schedule),
                                        learned_classes, classes);
  }
  if (mixture.dim() >= 2) {
    auto inpainting = options.inpainting;
    inpainting.seed = options.config.seed;
    inpainting.samples = std::min(inpainting.samples, options.config.samples);
    result.inpainting = run_mixture_inpainting(mixture, make_schedule(options.config.schedule), learned, inpainting);
  }
  if (options.figures) {
    result.figures = write_gmm_figures(options.config, result.report, options.out);
    if (result.inpainting) result.figures.push_back(write_inpainting_figure(*result.inpainting, options.out));
    if (options.conditional) result.figures.push_back(write_class_guidance_figure(result.classes, options.out));
  }
  result.json = to_json(result.report);
  if (result.inpainting) result.json["inpainting"] = to_json(*result.inpainting);
  if (options.conditional) result.json["classes"] = to_json(result.classes);
  result.json["figures"] = result.figures;
  result.report_path = options.out + "/report.json";
  write_file_atomically(result.report_path, result.json.dump(2) + "\n");
  return result;
}

}  // namespace ddpm
