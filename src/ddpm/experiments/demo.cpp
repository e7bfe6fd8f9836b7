#include "ddpm/experiments/demo.h"

#include <chrono>
#include <filesystem>

#include "ddpm/experiments/gmm_run.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/io/atomic_file.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/progress_line.h"
#include "ddpm/runtime/clock.h"

namespace ddpm {
namespace {

int64_t square_columns(int64_t n) {
  int64_t c = 1;
  while (c * c < n) ++c;
  return c;
}

struct ImageStage {
  std::string path, trajectory_path;  // trajectory_path: empty unless asked for
  std::string line;                   // the summary's measured figures
  std::string layout;                 // how a conditional model's classes are laid out ("" for the others)
};

// The shipped fashion-classes model's best setting (models/README.md: FID about that of w = 0, class accuracy
// 93.5 % against 86 %; w = 1 overshoots).
constexpr double kDefaultGuidance = 0.5;

// Samples `n` images with `spec` into OUT/file as a grid; with a trajectory file, also the generation process.
ImageStage sample_grid(TrainedModel& model, const DemoOptions& o, Precision precision, const std::string& file, int64_t n,
                       SamplerSpec spec,
                       const std::string& trajectory_file, const std::function<void(const std::string&)>& log) {
  GenerateOptions g;
  g.seed = o.seed;
  g.sampler = spec;
  g.precision = precision;
  int64_t columns = square_columns(n);
  std::string layout;
  if (model.config.conditional()) {  // a row per class
    const int64_t classes = model.config.num_classes();
    const int64_t per_class = std::max<int64_t>(1, n / classes);
    n = per_class * classes;
    g.labels = torch::arange(classes).repeat_interleave(per_class);
    columns = per_class > 1 ? per_class : classes;  // one image per class: the classes side by side
    g.guidance = o.guidance.value_or(kDefaultGuidance);
    layout = fmt::format("{}, guidance {}", per_class > 1 ? "a row per class" : "one per class", g.guidance);
  }
  g.n = n;
  const auto T = model.schedule.T;
  const int64_t evals = sampler_evaluations(spec, T) * n * (g.guidance != 0 ? 2 : 1);
  log(fmt::format("sampling {} images with {} ({} steps{}, {} network evaluations, {})...", n, spec.kind,
                  spec.steps > 0 ? spec.steps : T, layout.empty() ? "" : ", " + layout, evals, precision_name(precision)));
  std::unique_ptr<TrajectoryRecorder> recorder;
  if (!trajectory_file.empty()) recorder = std::make_unique<TrajectoryRecorder>();
  const auto start = Clock::now();
  const int64_t calls = sampler_evaluations(spec, T) * ((n + g.batch - 1) / g.batch);
  ProgressLine progress("  batched calls", calls);
  int64_t done = 0;
  const auto images = generate(model, g, recorder.get(), [&](int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
    progress.update(++done);
  });
  progress.finish();
  const double secs = seconds_since(start);
  const auto path = (std::filesystem::path(o.out) / file).string();
  save_image_grid(path, images, columns, 2, /*scale=*/0);
  ImageStage stage{path, "", fmt::format("{} images, {} in {:.1f} s ({:.0f} network evaluations/s)", n, spec.kind,
                                         secs, evals / secs), layout};
  log(fmt::format("  {} ({:.1f} s)", path, secs));
  if (recorder) {
    const auto tpath = (std::filesystem::path(o.out) / trajectory_file).string();
    save_image_grid(tpath, recorder->as_grid_batch(), recorder->columns(), 2, /*scale=*/0);
    stage.trajectory_path = tpath;
    log("  " + tpath);
  }
  return stage;
}

std::string weights_text(const nlohmann::json& weights) {
  std::string s;
  for (const auto& w : weights) s += (s.empty() ? "" : " / ") + (w.is_number() ? fmt::format("{:.3f}", w.get<double>()) : "-");
  return s;
}

}  // namespace

DemoResult run_demo(const DemoOptions& o, const std::function<void(const std::string&)>& log) {
  const auto start = Clock::now();
  auto model = load_trained_model(o.model);
  if (o.guidance && !model.config.conditional())
    throw std::invalid_argument("guidance needs a class-conditional model; this one was trained without classes");
  const auto precision = choose_precision(o.precision, torch::kCPU, model.config);  // before any work or output
  check_output_folder(o.out, {model.files, o.replace});
  std::filesystem::create_directories(o.out);
  DemoResult result;
  std::string summary = "# ddpm demo\n\n";

  const std::string steps = model.lineage_steps == model.step
                                ? fmt::format("{} training steps", model.step)
                                : fmt::format("{} training steps, {} of them in the run whose weights it started from",
                                              model.lineage_steps, model.lineage_steps - model.step);
  summary += fmt::format("Model: `{}` ({} after {}; {} schedule, T = {}).\n\n", model.path, model.config.arch, steps,
                         model.schedule_config.kind, model.schedule.T);

  SamplerSpec ddim;
  ddim.kind = "ddim";
  ddim.steps = o.ddim_steps;
  ddim.spacing = "trailing";  // ends at t = 1 and starts at t = T with few steps
  const auto fast = sample_grid(model, o, precision, "samples-ddim.png", o.grid, ddim, "", log);
  result.files.push_back({fast.path, fmt::format("samples by DDIM (eta = 0) in {} steps: the fast sampler{}", o.ddim_steps,
                                                   fast.layout.empty() ? "" : ", " + fast.layout)});
  summary += "- " + fast.line + "\n";

  SamplerSpec ancestral;
  ancestral.kind = "ancestral";
  ancestral.steps = o.ancestral_steps;
  const auto slow = sample_grid(model, o, precision, "samples-ancestral.png", o.ancestral_n, ancestral, "trajectory.png", log);
  result.files.push_back({slow.path, fmt::format("samples by ancestral sampling (Algorithm 2) over {} steps{}",
                                                 o.ancestral_steps, slow.layout.empty() ? "" : ", " + slow.layout)});
  result.files.push_back({slow.trajectory_path,
                          "Algorithm 2 made visible: each column a step of the reverse chain from t = T (left) to t = 1 "
                          "(right); for each of four samples a row of x_t and below it the model's prediction of x_0 "
                          "(Ho et al. eq. 15) at that step"});
  summary += "- " + slow.line + "\n";

  if (o.gmm) {
    log("two-mode Gaussian mixture: training the MLP denoiser and measuring it against the exact denoiser...");
    GmmRunOptions g;
    g.config.mixture = "two-modes";
    g.config.seed = o.seed;
    g.out = (std::filesystem::path(o.out) / "gmm").string();
    g.train_steps = o.gmm_train_steps;
    g.replace = o.replace;  // inside the folder checked above
    const auto gmm = run_gmm(g);
    const auto& j = gmm.json;
    summary += fmt::format(
        "- two-mode mixture (true weights {}): the learned MLP's samples have weights {} and sliced W2 {:.4f} to the "
        "truth (noise floor {:.4f} +- {:.4f}; exact denoiser {:.4f}); report {}\n",
        weights_text(j["true_weights"]), weights_text(j["learned"]["weights"]), j["learned"]["distance"].get<double>(),
        gmm.report.noise_floor, gmm.report.noise_floor_sd, j["oracle"]["distance"].get<double>(), gmm.report_path);
    const std::map<std::string, std::string> what = {
        {"forward.png", "the forward process on the mixture: the two modes smear and merge into N(0, I)"},
        {"eps_field.png", "the exact noise prediction eps* (the score, up to scale) at several t"},
        {"samples.png", "samples of the learned model and of the exact denoiser beside the truth: the modes come back "
                        "in the right proportions"},
        {"trajectories.png", "reverse chains from N(0, I) to the modes with the exact denoiser: ancestral (stochastic) "
                             "and DDIM eta = 0 (deterministic)"},
        {"errors.png", "two of the three sources of error measured: initialization (KL of q(x_T) to N(0, I) and its "
                       "cost, by T) and discretization (distance to the truth by sampling steps K); the third, "
                       "training error by t, is in report.json"},
        {"langevin.png", "annealed Langevin dynamics against ancestral sampling at equal network evaluations"},
        {"inpainting.png", "inpainting (RePaint) of x1 given x2 by the learned MLP and by the exact denoiser, against "
                           "the exact conditional density"}};
    for (const auto& path : gmm.figures) {
      const auto it = what.find(std::filesystem::path(path).filename().string());
      result.files.push_back({path, it != what.end() ? it->second : "a figure of the mixture experiment"});
    }
    result.files.push_back({gmm.report_path, "every table of the mixture experiment as JSON"});
  }

  result.seconds = seconds_since(start);
  summary += fmt::format("\nTotal {:.0f} s.\n\n## Files\n\n", result.seconds);
  for (const auto& f : result.files)
    summary += fmt::format("- `{}`: {}\n", std::filesystem::relative(f.path, o.out).string(), f.what);
  result.summary_path = (std::filesystem::path(o.out) / "summary.md").string();
  write_file_atomically(result.summary_path, summary);
  return result;
}

}  // namespace ddpm
