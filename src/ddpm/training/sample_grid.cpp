#include "ddpm/training/sample_grid.h"

#include <filesystem>

#include "ddpm/core/guidance.h"
#include "ddpm/core/random.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/io/image_io.h"
#include "ddpm/io/run_folder.h"
#include "ddpm/models/memory_budget.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {
namespace {

constexpr int64_t kGridSide = 6;
constexpr int64_t kMaxGridRows = 16;
constexpr uint64_t kGridNoiseStream = 2;  // derive_seed(run seed, this): see Trainer's kStepNoiseStream

}  // namespace

std::string write_sample_grid(const std::string& run_dir, int64_t step, NoiseNetImpl& net, const ModelConfig& model,
                              const Schedule& schedule, uint64_t run_seed, int64_t steps, const c10::Device& device,
                              Precision precision) {
  // A class-conditional network draws one row per class (the first kMaxGridRows), unguided.
  const int64_t rows = model.conditional() ? std::min(model.num_classes(), kMaxGridRows) : kGridSide;
  check_batch_fits(model, rows * kGridSide, /*training=*/false, device, "lower the classes of the sample grid");
  auto shape = sample_shape(model);
  shape.insert(shape.begin(), rows * kGridSide);
  auto noise_gen = make_generator(derive_seed(run_seed, kGridNoiseStream), device);
  auto x_T = torch::randn(shape, noise_gen, torch::TensorOptions().device(device));
  SamplerSpec spec;
  spec.steps = std::min(steps, schedule.T);
  spec = model_sampler(model, spec);
  const auto predictor =
      model.conditional()
          ? class_guided_predictor(network_class_predictor(net, schedule, precision),
                                   torch::arange(rows, torch::kLong).repeat_interleave(kGridSide), 0.0, model.num_classes())
          : network_predictor(net, schedule, precision);
  auto x0 = run_sampler(schedule, predictor, x_T, noise_gen, spec);
  const auto path = sample_grid_path(run_dir, step);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  save_image_grid(path, x0.to(torch::kCPU), kGridSide, 2, /*scale=*/0);
  return path;
}

}  // namespace ddpm
