// `ddpm export`: a model's weights (a run folder's EMA by default) as one self-contained model file, e.g. for
// models/, or as a diffusers pipeline folder.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/interop/diffusers.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/safetensors.h"

namespace ddpm::cli {
namespace {

struct ExportFlags {
  std::string model, out, format = "ddpm";
  bool raw = false, force = false;
};

void run(const ExportFlags& f) {
  const auto model = load_trained_model(f.model, f.raw);
  std::vector<std::string> reads = model.files;
  reads.push_back(f.model);
  const std::string which = model.step < 0 ? "" : fmt::format("{} weights of step {}, ", f.raw ? "raw" : "EMA", model.step);
  if (f.format == "diffusers") {
    check_output_folder(f.out, {reads, f.force});
    write_diffusers_folder(f.out, *model.net, model.config, model.schedule_config, model.sampling, f.force);
    fmt::print("wrote {} (diffusers DDPMPipeline; {}from {})\n", f.out, which, model.path);
    return;
  }
  check_output_files({{f.out, {".safetensors"}}}, {reads, f.force});
  const int64_t earlier_steps = std::max<int64_t>(model.lineage_steps - model.step, 0);
  write_safetensors(f.out, trained_model_content(*model.net, model.config, model.schedule_config, model.step,
                                                 earlier_steps, model.sampling));
  fmt::print("wrote {} ({}from {})\n", f.out, which, model.path);
}

}  // namespace

Subcommand add_export(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "export", "write a model (a run's EMA weights by default) as one model file or a diffusers folder");
  auto f = std::make_shared<ExportFlags>();
  app->add_option("--model", f->model, "run folder, model file, diffusers folder or shipped model")->required();
  app->add_option("--out", f->out, "the .safetensors file (ddpm) or the folder (diffusers) to write")->required();
  app->add_option("--format", f->format,
                  "ddpm: one .safetensors model file | diffusers: a DDPMPipeline folder (model_index.json, unet/, "
                  "scheduler/) that diffusers' from_pretrained loads")
      ->capture_default_str()->check(CLI::IsMember({"ddpm", "diffusers"}));
  app->add_flag("--raw", f->raw, "the raw weights instead of the EMA");
  app->add_flag("--force", f->force, "replace an existing file or folder (never the model read)");
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
