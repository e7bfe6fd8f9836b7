// `ddpm sample`: images (a PNG grid) or points (CSV) from a trained model, by Algorithm 2 or a faster sampler.
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/shipped_models.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/points_file.h"
#include "ddpm/io/progress_line.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/runtime/device.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm::cli {
namespace {

struct SampleFlags {
  std::string model, out = "samples.png", variance, save_tensors, trajectory, noise, device = "cpu", precision = "auto";
  GenerateOptions options;
  bool raw = false, force = false;
  int64_t nrow = 0;
  std::vector<std::string> classes;  // names, indices or none; empty: every class of a conditional model
  std::vector<CLI::Option*> langevin_only;  // refused with another sampler
};

// Every output checked before sampling starts (io/output_path.h): points go to .csv, images to an image file.
void check_outputs(const SampleFlags& f, const TrainedModel& model, bool image) {
  if (!f.trajectory.empty() && !image) throw std::invalid_argument("--trajectory draws images; this is a point model");
  std::vector<OutputFile> outputs = {{f.out, image ? image_output_extensions() : std::vector<std::string>{".csv"}}};
  if (!f.save_tensors.empty()) outputs.push_back({f.save_tensors, {".safetensors"}});
  if (!f.trajectory.empty()) outputs.push_back({f.trajectory, image_output_extensions()});
  std::vector<std::string> reads = model.files;
  reads.push_back(f.model);
  if (!f.noise.empty()) reads.push_back(f.noise);
  check_output_files(outputs, {reads, f.force});
}

// The --noise file's one tensor, checked against the model.
torch::Tensor read_starting_noise(const std::string& path, const ModelConfig& model) {
  auto content = read_safetensors(path);
  if (content.tensors.size() != 1)
    throw std::invalid_argument(fmt::format("{}: --noise takes a file of one tensor [N, ...], this one holds {}", path,
                                            content.tensors.size()));
  check_starting_noise(content.tensors[0].second, model, path);
  return content.tensors[0].second;
}

void run(SampleFlags& f) {
  if (f.options.sampler.kind != "langevin")
    for (const auto* option : f.langevin_only)
      if (option->count() > 0) throw CLI::ValidationError(option->get_name(), "applies to --sampler langevin only");
  if (!f.variance.empty()) f.options.sampler.variance = parse_variance_kind(f.variance);
  const auto device = parse_device(f.device);
  auto model = load_trained_model(f.model, f.raw, device);
  f.options.precision = choose_precision(f.precision, device, model.config);
  // A class-conditional model draws --n samples of each class asked for (by default, of every class), one grid row each.
  int64_t per_row = 0;
  if (!f.noise.empty()) f.options.noise = read_starting_noise(f.noise, model.config);
  if (f.options.guidance != 0 && !model.config.conditional())
    throw std::invalid_argument("--guidance needs a class-conditional model; this one was trained without classes");
  if (!f.classes.empty() || model.config.conditional()) {
    std::vector<int64_t> labels;
    for (const auto& name : f.classes) labels.push_back(class_label(model.config, name));
    if (labels.empty())
      for (int64_t c = 0; c < model.config.num_classes(); ++c) labels.push_back(c);
    const auto classes = static_cast<int64_t>(labels.size());
    if (f.options.noise.defined()) {  // the file's N samples, N / classes of each class
      if (f.options.noise.size(0) % classes != 0)
        throw std::invalid_argument(fmt::format("{}: {} starting points cannot be shared by {} classes", f.noise,
                                                f.options.noise.size(0), classes));
      f.options.n = f.options.noise.size(0) / classes;
    }
    f.options.labels = torch::tensor(labels, torch::kLong).repeat_interleave(f.options.n);
    per_row = f.options.n;
    f.options.n *= classes;
  } else if (f.options.noise.defined()) {
    f.options.n = f.options.noise.size(0);
  }
  const bool image = samples_are_images(model.config);
  check_outputs(f, model, image);
  const auto& schedule = model.schedule;
  // The cost, before the work: a network evaluation is one sample through the network; a batched call
  // evaluates up to --batch samples at once.
  const auto spec = model_sampler(model.config, f.options.sampler, model.sampling);
  const int64_t per_sample = sampler_evaluations(spec, schedule.T);
  const int64_t batches = (f.options.n + f.options.batch - 1) / f.options.batch;
  const int64_t levels = spec.steps > 0 ? spec.steps : schedule.T;
  const std::string how = spec.kind != "langevin" ? fmt::format("{} steps", levels)
                          : fmt::format("{} noise levels x {} steps{}", levels, spec.langevin_steps_per_level,
                                        spec.langevin_denoise ? " + a denoising step" : "");
  ProgressLine progress_line("sampling: batched calls", batches * per_sample, 0);
  const std::string variance =
      spec.kind == "ancestral" ? "; variance " + to_string(resolved_variance(spec, schedule.T)) : "";
  const int64_t guided = f.options.guidance != 0 ? 2 : 1;  // guidance: both predictions, in one call of 2x the rows
  progress_line.note(fmt::format("sampling {}{} with {} ({}; {} network evaluations in {} batched calls{}; {}) from {}",
                                 f.options.n, per_row > 0 ? fmt::format(" ({} per class, guidance {})", per_row, f.options.guidance) : "",
                                 spec.kind, how, guided * f.options.n * per_sample, batches * per_sample, variance,
                                 precision_name(f.options.precision), model.path));
  int64_t calls = 0;
  StepCallback progress = [&](int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) {
    progress_line.update(++calls);
  };
  std::unique_ptr<TrajectoryRecorder> trajectory;
  if (!f.trajectory.empty()) {
    trajectory = std::make_unique<TrajectoryRecorder>();
  }
  auto samples = generate(model, f.options, trajectory.get(), progress);
  progress_line.finish();

  if (image) {
    const auto square = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(samples.size(0)))));
    // One image is a picture, not a grid: without padding it reads back as an input (`ddpm edit`).
    save_image_grid(f.out, samples, f.nrow > 0 ? f.nrow : per_row > 0 ? per_row : square, samples.size(0) == 1 ? 0 : 2,
                    /*scale=*/0);
  } else {
    write_points_csv(f.out, samples);
  }
  std::printf("wrote %s\n", f.out.c_str());
  if (!f.save_tensors.empty()) {
    write_safetensors(f.save_tensors, {{{"samples", samples.contiguous()}}, {{"ddpm.model", model.path}}});
    std::printf("wrote %s\n", f.save_tensors.c_str());
  }
  if (trajectory) {
    save_image_grid(f.trajectory, trajectory->as_grid_batch(), trajectory->columns(), 2, /*scale=*/0);
    std::printf("wrote %s (columns: reverse steps; rows: x_t, then predicted x_0, per sample)\n", f.trajectory.c_str());
  }
}

}  // namespace

Subcommand add_sample(CLI::App& parent) {
  auto* app = parent.add_subcommand("sample", "generate samples from a trained model (Algorithm 2, DDIM or Langevin)");
  auto f = std::make_shared<SampleFlags>();
  auto& s = f->options.sampler;
  app->add_option("--model", f->model,
                  fmt::format("a shipped model's name ({}), a run folder, a .safetensors model file or a diffusers folder",
                              fmt::join(shipped_model_names(), ", ")))
      ->required();
  auto* n = app->add_option("--n", f->options.n, "number of samples (of a class-conditional model: of each class)")
      ->capture_default_str()->check(positive());
  app->add_option("--class", f->classes,
                  "a class-conditional model's classes to draw, by name or index, or none (no class); repeat it or "
                  "give a list (default: every class, one grid row each)")
      ->delimiter(',');
  app->add_option("--guidance", f->options.guidance,
                  "classifier-free guidance weight w: (1+w) eps(x,c) - w eps(x) (Ho & Salimans 2021); 0: none, "
                  "one network evaluation per step, else two")
      ->capture_default_str()->check(non_negative());
  app->add_option("--out", f->out, "output: a .png or .jpg grid (images) or .csv (points)")->capture_default_str();
  app->add_option("--seed", f->options.seed, "seed")->capture_default_str();
  add_sampler_flags(*app, s);
  app->add_option("--variance", f->variance, "posterior (beta tilde) | beta (default: beta for all T steps, posterior for fewer)")
      ->check(CLI::IsMember(variance_kinds()));
  auto& only = f->langevin_only;
  only.push_back(app->add_option("--langevin-steps", s.langevin_steps_per_level,
                                 "langevin: steps per noise level (cost: levels x this per sample)")
                     ->capture_default_str()->check(positive()));
  auto* epsilon = app->add_option("--langevin-epsilon", s.langevin_epsilon,
                                  "langevin: step size at the least noisy level, scaled by sigma^2 above it (Song & Ermon 2019)")
                      ->capture_default_str()->check(positive());
  only.push_back(epsilon);
  only.push_back(app->add_option("--langevin-snr", s.langevin_snr,
                                 "langevin: step sizes from this signal-to-noise ratio instead (Song et al. 2021's corrector, e.g. 0.16)")
                     ->check(positive())->excludes(epsilon));
  only.push_back(app->add_flag_callback("--no-langevin-denoise", [f] { f->options.sampler.langevin_denoise = false; },
                                        "langevin: return the last iterate, without the final denoising step"));
  app->add_flag("--raw", f->raw, "use the raw weights instead of the EMA");
  app->add_flag("--force", f->force, "replace existing output files (never the model read)");
  app->add_option("--save-tensors", f->save_tensors,
                  "also save the samples unquantized (images in [-1, 1]) as a safetensors file");
  app->add_option("--noise", f->noise,
                  "start from this x_T: a .safetensors file of one float32 tensor [N, C, H, W] (N samples; a "
                  "class-conditional model shares them among the classes)")
      ->excludes(n);
  app->add_option("--trajectory", f->trajectory, "also draw x_t and predicted x_0 at ten steps (.png or .jpg)");
  app->add_option("--nrow", f->nrow, "images per grid row (default: square)")->check(positive());
  app->add_option("--batch", f->options.batch, "samples per batch")->capture_default_str()->check(positive());
  app->add_option("--device", f->device, "cpu or cuda")->capture_default_str();
  add_precision_flag(*app, f->precision);
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
