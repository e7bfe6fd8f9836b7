// `ddpm sample`: images (a PNG grid) or points (CSV) from a trained model, by Algorithm 2 or a faster sampler.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "inference/generate.h"
#include "inference/trained_model.h"
#include "io/atomic_file.h"
#include "io/image_io.h"
#include "io/output_path.h"
#include "io/safetensors.h"
#include "runtime/device.h"
#include "samplers/sampler.h"

namespace ddpm::cli {
namespace {

struct SampleFlags {
  std::string model, out = "samples.png", variance, save_tensors, trajectory, device = "cpu";
  GenerateOptions options;
  bool raw = false, force = false;
  int64_t nrow = 0;
};

void write_points_csv(const std::string& path, const torch::Tensor& points) {
  auto p = points.to(torch::kFloat64).contiguous();
  std::string text;
  for (int64_t i = 0; i < p.size(0); ++i) {
    for (int64_t j = 0; j < p.size(1); ++j) text += fmt::format("{}{:.6g}", j ? "," : "", p[i][j].item<double>());
    text += "\n";
  }
  write_file_atomically(path, text);
}

// Every output checked before sampling starts (io/output_path.h): points go to .csv, images to an image file.
void check_outputs(const SampleFlags& f, const TrainedModel& model, bool image) {
  if (!f.trajectory.empty() && !image) throw std::invalid_argument("--trajectory draws images; this is a point model");
  std::vector<OutputFile> outputs = {{f.out, image ? image_output_extensions() : std::vector<std::string>{".csv"}}};
  if (!f.save_tensors.empty()) outputs.push_back({f.save_tensors, {".safetensors"}});
  if (!f.trajectory.empty()) outputs.push_back({f.trajectory, image_output_extensions()});
  check_output_files(outputs, {{f.model, model.path}, f.force});
}

void run(SampleFlags& f) {
  if (!f.variance.empty()) f.options.sampler.variance = parse_variance_kind(f.variance);
  auto model = load_trained_model(f.model, f.raw, parse_device(f.device));
  const bool image = samples_are_images(model.config);
  check_outputs(f, model, image);
  const auto& schedule = model.schedule;
  const int64_t evals = sampler_evaluations(f.options.sampler, schedule.T);
  const bool live = ::isatty(STDERR_FILENO);
  std::fprintf(stderr, "sampling %lld with %s (%lld network evaluations, variance %s) from %s\n",
               static_cast<long long>(f.options.n), f.options.sampler.kind.c_str(), static_cast<long long>(evals),
               to_string(resolved_variance(f.options.sampler, schedule.T)).c_str(), model.path.c_str());
  StepCallback progress = [live, last = -1](int64_t step, int64_t total, const torch::Tensor&, const torch::Tensor&) mutable {
    const int pct = static_cast<int>(100 * step / total);
    if (pct == last || (!live && pct % 25 != 0)) return;
    last = pct;
    std::fprintf(stderr, live ? "\r\033[Kstep %lld/%lld (%d%%)" : "step %lld/%lld (%d%%)\n", static_cast<long long>(step),
                 static_cast<long long>(total), pct);
    std::fflush(stderr);
  };
  std::unique_ptr<TrajectoryRecorder> trajectory;
  if (!f.trajectory.empty()) {
    trajectory = std::make_unique<TrajectoryRecorder>();
  }
  auto samples = generate(model, f.options, trajectory.get(), progress);
  if (live) std::fprintf(stderr, "\n");

  if (image) {
    const auto square = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(samples.size(0)))));
    save_image_grid(f.out, samples, f.nrow > 0 ? f.nrow : square, 2, /*scale=*/0);
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
  app->add_option("--model", f->model, "run folder or .safetensors model file")->required();
  app->add_option("--n", f->options.n, "number of samples")->capture_default_str()->check(positive());
  app->add_option("--out", f->out, "output: .png grid (images) or .csv (points)")->capture_default_str();
  app->add_option("--seed", f->options.seed, "seed")->capture_default_str();
  add_sampler_flags(*app, s);
  app->add_option("--variance", f->variance, "posterior (beta tilde) | beta (default: beta for all T steps, posterior for fewer)")
      ->check(CLI::IsMember(variance_kinds()));
  app->add_flag("--raw", f->raw, "use the raw weights instead of the EMA");
  app->add_flag("--force", f->force, "replace existing output files (never the model read)");
  app->add_option("--save-tensors", f->save_tensors, "also save the samples as a safetensors file");
  app->add_option("--trajectory", f->trajectory, "also draw x_t and predicted x_0 at ten steps (PNG)");
  app->add_option("--nrow", f->nrow, "images per grid row (default: square)")->check(positive());
  app->add_option("--batch", f->options.batch, "samples per batch")->capture_default_str()->check(positive());
  app->add_option("--device", f->device, "cpu or cuda")->capture_default_str();
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
