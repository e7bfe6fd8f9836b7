#include "training/sample_grid.h"

#include <filesystem>

#include "core/random.h"
#include "inference/network_predictor.h"
#include "io/image_io.h"
#include "io/run_folder.h"
#include "samplers/sampler.h"

namespace ddpm {
namespace {

constexpr int64_t kGridSide = 6;
constexpr uint64_t kGridNoiseStream = 2;  // derive_seed(run seed, this): see Trainer's kStepNoiseStream

}  // namespace

std::string write_sample_grid(const std::string& run_dir, int64_t step, NoiseNetImpl& net, const ModelConfig& model,
                              const Schedule& schedule, uint64_t run_seed, int64_t steps, const c10::Device& device,
                              Precision precision) {
  auto shape = sample_shape(model);
  shape.insert(shape.begin(), kGridSide * kGridSide);
  auto noise_gen = make_generator(derive_seed(run_seed, kGridNoiseStream), device);
  auto x_T = torch::randn(shape, noise_gen, torch::TensorOptions().device(device));
  SamplerSpec spec;
  spec.steps = std::min(steps, schedule.T);
  spec.clip_x0 = samples_are_images(model);
  auto x0 = run_sampler(schedule, network_predictor(net, precision), x_T, noise_gen, spec);
  const auto path = sample_grid_path(run_dir, step);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  save_image_grid(path, x0.to(torch::kCPU), kGridSide, 2, /*scale=*/0);
  return path;
}

}  // namespace ddpm
