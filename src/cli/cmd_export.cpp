// `ddpm export`: a run folder's weights (EMA by default) as one self-contained model file, e.g. for models/.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/io/output_path.h"
#include "ddpm/io/safetensors.h"

namespace ddpm::cli {
namespace {

struct ExportFlags {
  std::string model, out;
  bool raw = false, force = false;
};

void run(const ExportFlags& f) {
  const auto model = load_trained_model(f.model, f.raw);
  check_output_files({{f.out, {".safetensors"}}}, {{f.model, model.path}, f.force});
  const int64_t earlier_steps = std::max<int64_t>(model.lineage_steps - model.step, 0);
  write_safetensors(f.out,
                    trained_model_content(*model.net, model.config, model.schedule_config, model.step, earlier_steps));
  fmt::print("wrote {} ({} weights of step {}, from {})\n", f.out, f.raw ? "raw" : "EMA", model.step, model.path);
}

}  // namespace

Subcommand add_export(CLI::App& parent) {
  auto* app = parent.add_subcommand("export", "write a run's weights (EMA by default) as one model file");
  auto f = std::make_shared<ExportFlags>();
  app->add_option("--model", f->model, "run folder or model file")->required();
  app->add_option("--out", f->out, "the .safetensors file to write")->required();
  app->add_flag("--raw", f->raw, "the raw weights instead of the EMA");
  app->add_flag("--force", f->force, "replace an existing file (never the model read)");
  return {app, [f] { run(*f); }};
}

}  // namespace ddpm::cli
