// Samples a trained model and writes the samples as one PNG grid.
//   sample_model [MODEL [OUT.png [STEPS]]]
// MODEL: a shipped model's name (default fashion-classes), a .safetensors model file or a training run's
// folder. A class-conditional model draws row r of the grid from class r.
#include <ddpm/inference/generate.h>
#include <ddpm/inference/trained_model.h>
#include <ddpm/io/image_io.h>
#include <ddpm/runtime/cpu_runtime.h>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) try {
  const std::string model_name = argc > 1 ? argv[1] : "fashion-classes";
  const std::string out = argc > 2 ? argv[2] : "samples.png";
  const int64_t steps = argc > 3 ? std::stoll(argv[3]) : 25;

  ddpm::configure_cpu_runtime(0);  // every core, and the BLAS and heap settings ddpm measured fastest
  ddpm::TrainedModel model = ddpm::load_trained_model(model_name);
  const int64_t rows = model.config.conditional() ? model.config.num_classes() : 4;

  ddpm::GenerateOptions options;
  options.n = rows * 4;
  options.seed = 1;
  options.sampler.kind = "ddim";  // DDIM (Song et al. 2021), deterministic, in `steps` network evaluations
  options.sampler.steps = steps;
  if (model.config.conditional()) {
    options.labels = torch::arange(rows).repeat_interleave(4);  // row r: class r
    options.guidance = 1.0;                                     // classifier-free guidance w
  }
  const torch::Tensor images = ddpm::generate(model, options);  // [n, C, H, W] in [-1, 1]
  ddpm::save_image_grid(out, images, /*nrow=*/4, /*padding=*/2, /*scale=*/2);
  std::printf("%lld samples of %s (%lld training steps) in %s\n", static_cast<long long>(options.n),
              model.path.c_str(), static_cast<long long>(model.lineage_steps), out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sample_model: %s\n", e.what());
  return 1;
}
