// `ddpm edit inpaint|img2img|invert|interpolate`: a trained model applied to the user's own images or points
// (inference/edit.h).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/shared_flags.h"
#include "ddpm/inference/edit.h"
#include "ddpm/inference/shipped_models.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/points_file.h"
#include "ddpm/io/progress_line.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/runtime/device.h"

namespace ddpm::cli {
namespace {

enum class Operation { inpaint, img2img, invert, interpolate };

struct EditFlags {
  Operation op;
  std::string model, out, device = "cpu", precision = "auto", klass = "none", mask, latents;
  std::vector<std::string> inputs;
  std::vector<int64_t> rect;  // x, y, width, height
  std::vector<uint64_t> seeds;
  EditRequest request;
  int64_t n = 4, jump_length = 10, jump_n_sample = 10, frames = 8;
  double strength = 0.5;
  bool raw = false, force = false;
  CLI::Option* steps = nullptr;  // --steps: its default is lowered to T for a model of fewer steps
};

// The inputs' rows, each repeated for its n results (results of one input are consecutive).
torch::Tensor repeat_rows(const torch::Tensor& rows, int64_t n) { return rows.repeat_interleave(n, 0); }

// Every input and output checked before the work starts.
void check_files(const EditFlags& f, const TrainedModel& model, bool image) {
  std::vector<OutputFile> outputs = {{f.out, image ? image_output_extensions() : std::vector<std::string>{".csv"}}};
  if (!f.latents.empty()) outputs.push_back({f.latents, {".safetensors"}});
  std::vector<std::string> reads = model.files;
  reads.push_back(f.model);
  reads.insert(reads.end(), f.inputs.begin(), f.inputs.end());
  if (!f.mask.empty()) reads.push_back(f.mask);
  check_output_files(outputs, {reads, f.force});
}

void write_results(const EditFlags& f, bool image, const torch::Tensor& results, int64_t nrow, const std::string& what) {
  if (image)
    save_image_grid(f.out, results, nrow, 2, /*scale=*/0);
  else
    write_points_csv(f.out, results);
  std::printf("wrote %s (%s)\n", f.out.c_str(), what.c_str());
}

void run(EditFlags& f) {
  const auto device = parse_device(f.device);
  auto model = load_trained_model(f.model, f.raw, device);
  const bool image = samples_are_images(model.config);
  auto& request = f.request;
  request.precision = choose_precision(f.precision, device, model.config);
  if (f.steps->count() == 0) request.sampler.steps = std::min(request.sampler.steps, model.schedule.T);
  const int64_t label = model.config.conditional() || f.klass != "none" ? class_label(model.config, f.klass) : -1;
  auto labels_for = [&](int64_t rows) { return label < 0 ? torch::Tensor() : torch::full({rows}, label, torch::kLong); };
  check_files(f, model, image);
  const int64_t guided = request.guidance != 0 ? 2 : 1;
  const std::string classes = label < 0 ? "" : fmt::format(", class {}, guidance {}", f.klass, request.guidance);

  if (f.op == Operation::interpolate) {
    torch::Tensor frames;
    request.labels = labels_for(f.frames);
    if (!f.seeds.empty()) {
      request.seed = f.seeds[0];
      std::printf("interpolating %ld frames between the noises of seeds %lu and %lu (%s, %ld steps%s)\n",
                  static_cast<long>(f.frames), static_cast<unsigned long>(f.seeds[0]), static_cast<unsigned long>(f.seeds[1]),
                  request.sampler.kind.c_str(), static_cast<long>(sampler_timesteps(request.sampler, model.schedule.T).size()),
                  classes.c_str());
      frames = edit_interpolate_noise(model, f.seeds[1], f.frames, request);
      write_results(f, image, frames, f.frames, "frames from the first noise to the second");
      return;
    }
    if (f.inputs.size() != 2) throw CLI::ValidationError("--input", "interpolate takes two inputs (or --seeds A,B)");
    const auto a = read_edit_input(model.config, f.inputs[0]), b = read_edit_input(model.config, f.inputs[1]);
    if (a.size(0) != 1 || b.size(0) != 1)
      throw CLI::ValidationError("--input", "interpolate takes one point (one CSV row) per input");
    std::printf("interpolating %ld frames: DDIM inversion of both inputs, slerp, DDIM back (%ld steps%s)\n",
                static_cast<long>(f.frames), static_cast<long>(sampler_timesteps(request.sampler, model.schedule.T).size()),
                classes.c_str());
    frames = edit_interpolate(model, a, b, f.frames, request);
    if (image) frames = torch::cat({a, frames, b});
    write_results(f, image, frames, frames.size(0), image ? "the inputs at both ends" : "one frame per row");
    return;
  }

  if (f.inputs.size() != 1) throw CLI::ValidationError("--input", "takes one input file for this operation");
  const auto inputs = read_edit_input(model.config, f.inputs[0]);
  const int64_t per_input = f.op == Operation::invert ? 1 : f.n;
  const auto rows = repeat_rows(inputs, per_input);
  request.labels = labels_for(rows.size(0));
  int64_t calls = 0;
  std::unique_ptr<ProgressLine> progress_line;
  StepCallback progress = [&](int64_t, int64_t, const torch::Tensor&, const torch::Tensor&) { progress_line->update(++calls); };
  auto announce = [&](int64_t per_result, const std::string& what) {
    progress_line = std::make_unique<ProgressLine>("editing: batched calls", per_result, 0);
    progress_line->note(fmt::format("{} ({} results, {} network evaluations in {} batched calls{}; {}) from {}", what,
                                    rows.size(0), guided * rows.size(0) * per_result, per_result, classes,
                                    precision_name(request.precision), model.path));
  };

  if (f.op == Operation::inpaint) {
    if (f.mask.empty() == f.rect.empty()) throw CLI::ValidationError("--mask", "inpaint takes either --mask or --rect");
    const auto keep = f.mask.empty() ? rectangle_keep_mask(model.config, f.rect[0], f.rect[1], f.rect[2], f.rect[3])
                                     : read_keep_mask(model.config, f.mask);
    if (!image && keep.size(0) != 1 && keep.size(0) != inputs.size(0))
      throw CLI::ValidationError("--mask", fmt::format("has {} rows; give one, or one per input ({})", keep.size(0), inputs.size(0)));
    const auto row_keep = image || keep.size(0) == 1 ? keep : repeat_rows(keep, per_input);
    announce(inpaint_evaluations(model, request.sampler, f.jump_length, f.jump_n_sample),
             fmt::format("inpainting by RePaint: {} steps, jumps of {} run {} times", sampler_timesteps(request.sampler, model.schedule.T).size(),
                         f.jump_length, f.jump_n_sample));
    auto results = edit_inpaint(model, rows, row_keep, f.jump_length, f.jump_n_sample, request, progress);
    progress_line->finish();
    // Images: the input, what was kept (the filled part grey), then the results.
    if (image) results = torch::cat({inputs, inputs * keep, results});
    write_results(f, image, results, f.n + 2, image ? "the input, the part kept, then the results" : "n rows per input row");
  } else if (f.op == Operation::img2img) {
    announce(img2img_evaluations(model, request.sampler, f.strength),
             fmt::format("image-to-image by SDEdit at strength {} with {}", f.strength, request.sampler.kind));
    auto results = edit_img2img(model, rows, f.strength, request, progress);
    progress_line->finish();
    if (image) results = torch::cat({inputs, results});
    write_results(f, image, results, f.n + 1, image ? "the input, then the results" : "n rows per input row");
  } else {
    const auto steps = static_cast<int64_t>(sampler_timesteps(request.sampler, model.schedule.T).size());
    announce(2 * steps, fmt::format("DDIM inversion and reconstruction, {} steps each way", steps));
    const auto inversion = edit_invert(model, rows, request, progress);
    progress_line->finish();
    const double psnr = 20.0 * std::log10(2.0 / std::max(inversion.rmse, 1e-12));  // the data's range is 2 wide
    std::printf("reconstruction error: RMSE %.4g (PSNR %.1f dB over the range [-1, 1])\n", inversion.rmse, psnr);
    const auto out = image ? torch::cat({inputs, inversion.reconstructions}) : inversion.reconstructions;
    write_results(f, image, out, 2, image ? "the input, then its reconstruction" : "the reconstructions");
    if (!f.latents.empty()) {
      write_safetensors(f.latents, {{{"latents", inversion.latents.contiguous()}}, {{"ddpm.model", model.path}}});
      std::printf("wrote %s (x at the last step of the inversion)\n", f.latents.c_str());
    }
  }
}

// The flags every operation takes.
void add_common_flags(CLI::App* app, EditFlags& f, const std::string& default_out) {
  f.out = default_out;
  app->add_option("--model", f.model,
                  fmt::format("a shipped model's name ({}), a run folder, a .safetensors model file or a diffusers folder",
                              fmt::join(shipped_model_names(), ", ")))
      ->required();
  app->add_option("--out", f.out, "output: a .png or .jpg (images) or .csv (points)")->capture_default_str();
  app->add_option("--seed", f.request.seed, "seed")->capture_default_str();
  app->add_option("--class", f.klass, "a class-conditional model's class, by name or index, or none")->capture_default_str();
  app->add_option("--guidance", f.request.guidance, "classifier-free guidance weight w (with --class)")
      ->capture_default_str()->check(non_negative());
  app->add_flag("--raw", f.raw, "use the raw weights instead of the EMA");
  app->add_flag("--force", f.force, "replace existing output files (never a file read)");
  app->add_option("--device", f.device, "cpu or cuda")->capture_default_str();
  add_precision_flag(*app, f.precision);
}

CLI::Option* add_input_flag(CLI::App* app, EditFlags& f, const std::string& what) {
  return app->add_option("--input", f.inputs, what);
}

}  // namespace

Subcommand add_edit(CLI::App& parent) {
  auto* app = parent.add_subcommand("edit", "edit images or points with a trained model: inpaint, img2img, invert, interpolate");
  app->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::shared_ptr<EditFlags>>> operations;
  auto operation = [&](const char* name, const char* help, Operation op, const std::string& out) {
    auto* sub = app->add_subcommand(name, help);
    auto f = std::make_shared<EditFlags>();
    f->op = op;
    add_common_flags(sub, *f, out);
    operations.emplace_back(sub, f);
    return std::pair{sub, f};
  };

  auto [inpaint, fi] = operation("inpaint", "fill the masked part of an input, keeping the rest (RePaint, Lugmayr et al. 2022)",
                                 Operation::inpaint, "inpaint.png");
  add_input_flag(inpaint, *fi, "the image (PNG/JPEG) or points (CSV) to complete")->required();
  auto* mask = inpaint->add_option("--mask", fi->mask,
                                   "what to keep: an image, white = keep, black = fill; for points a CSV of 1 (keep) and 0 (fill) per column");
  inpaint->add_option("--rect", fi->rect, "the rectangle to fill instead: X,Y,WIDTH,HEIGHT in the model's pixels")
      ->delimiter(',')->expected(4)->excludes(mask);
  inpaint->add_option("--n", fi->n, "results per input")->capture_default_str()->check(positive());
  fi->request.sampler.steps = 100;
  fi->steps = add_step_flags(*inpaint, fi->request.sampler);
  inpaint->add_option("--jump-length", fi->jump_length, "RePaint's jump length j: levels gone back up in each resampling jump")
      ->capture_default_str()->check(positive());
  inpaint->add_option("--jump-n-sample", fi->jump_n_sample,
                      "RePaint's r: times each stretch of j levels is run (1: no resampling; cost grows about r-fold)")
      ->capture_default_str()->check(positive());

  auto [img2img, fm] = operation("img2img", "redraw an input with the model, keeping its layout (SDEdit, Meng et al. 2022)",
                                 Operation::img2img, "img2img.png");
  add_input_flag(img2img, *fm, "the image (PNG/JPEG) or points (CSV) to start from")->required();
  img2img->add_option("--strength", fm->strength, "how far to noise the input, t0/T in (0, 1]: near 0 keeps it, 1 forgets it")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->check(positive());
  img2img->add_option("--n", fm->n, "results per input")->capture_default_str()->check(positive());
  fm->request.sampler.steps = 100;  // ancestral (the default): its noise hides what DDIM keeps of an input's flaws
  add_sampler_flags(*img2img, fm->request.sampler);
  fm->steps = img2img->get_option("--steps");

  auto [invert, fv] = operation("invert", "DDIM inversion: the input's x_T, and the reconstruction from it with its error",
                                Operation::invert, "reconstruction.png");
  add_input_flag(invert, *fv, "the image (PNG/JPEG) or points (CSV) to invert")->required();
  invert->add_option("--latents", fv->latents, "also save the latents (x_T) as a .safetensors file");
  fv->request.sampler.steps = 100;
  fv->steps = add_step_flags(*invert, fv->request.sampler);

  auto [interpolate, fp] = operation("interpolate", "frames between two inputs (DDIM inversion, slerp, DDIM) or two noises",
                                     Operation::interpolate, "interpolation.png");
  auto* two_inputs = interpolate->add_option("--input", fp->inputs, "the two images (or one-row point files), given twice")
                         ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  interpolate->add_option("--seeds", fp->seeds, "interpolate between the noises of these two seeds instead: A,B")
      ->delimiter(',')->expected(2)->excludes(two_inputs)->excludes(interpolate->get_option("--seed"));
  interpolate->add_option("--frames", fp->frames, "frames, both ends included")->capture_default_str()->check(CLI::Range(2, 64));
  fp->request.sampler.kind = "ddim";
  fp->request.sampler.steps = 100;
  fp->steps = add_step_flags(*interpolate, fp->request.sampler);

  return {app, [operations] {
            for (const auto& [sub, f] : operations)
              if (sub->parsed()) run(*f);
          }};
}

}  // namespace ddpm::cli
