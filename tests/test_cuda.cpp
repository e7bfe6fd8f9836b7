// The CUDA paths, where a GPU is visible (scripts/check-cuda runs the suite on a GPU machine); elsewhere every
// test here skips. The GPU computes differently from the CPU in two known ways, and the checks allow for
// exactly those: cuDNN's convolutions run in TF32 by default (a 10-bit mantissa, unit roundoff 2^-11 ≈ 5e-4,
// so a dozen products in sequence land near 1e-3 relative), and the random numbers come from the device's own
// generator, so a seed draws other noise than on the CPU.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "data_test_files.h"
#include "tiny_unet_run.h"
#include "ddpm/benchmark/peak_memory.h"
#include "ddpm/core/random.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/models/mixed_precision.h"
#include "ddpm/models/unet.h"
#include "ddpm/training/trainer.h"

using namespace ddpm;

namespace {

class Cuda : public testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible";
  }
  const c10::Device gpu{c10::kCUDA, 0};
};

double relative_error(const torch::Tensor& a, const torch::Tensor& reference) {
  const auto r = reference.cpu().to(torch::kFloat64);
  return ((a.cpu().to(torch::kFloat64) - r).norm() / r.norm()).item<double>();
}

torch::Tensor flat_parameters(torch::nn::Module& net) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : net.parameters()) parts.push_back(p.detach().cpu().flatten());
  return torch::cat(parts);
}

}  // namespace

// The U-Net of the shipped models, on the GPU: the CPU's output within TF32's error in fp32, and within 3 % of
// that in bf16, where the products must really run in bf16 (bf16's unit roundoff is 2^-8 ≈ 0.4 %; this
// network's bf16 output is 1.3 % from its fp32 one on the CPU).
TEST_F(Cuda, UNetForwardMatchesTheCpu) {
  torch::manual_seed(1);
  UNetImpl net(model_preset("fashion").unet);
  net.eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({8, 1, 28, 28});
  const auto t = torch::tensor({0, 1, 10, 100, 300, 500, 800, 999}, torch::kLong);
  const auto cpu = net.forward(x, t);
  net.to(gpu);
  const auto fp32 = net.forward(x.to(gpu), t.to(gpu));
  EXPECT_TRUE(fp32.is_cuda());
  EXPECT_LT(relative_error(fp32, cpu), 5e-3);
  torch::Tensor bf16;
  {
    const PrecisionScope scope(Precision::bf16);
    bf16 = net.forward(x.to(gpu), t.to(gpu));
  }
  EXPECT_EQ(bf16.dtype(), torch::kFloat32);
  const double error = relative_error(bf16, fp32);
  EXPECT_LT(error, 0.03);
  EXPECT_GT(error, 1e-4) << "the products did not run in bf16";
}

// DDIM with η = 0 is a deterministic map from x_T: the shipped model given the same starting noise draws the
// same images on the GPU as on the CPU, up to TF32's error carried through the steps.
TEST_F(Cuda, DdimFromTheSameNoiseMatchesTheCpu) {
  GenerateOptions o;
  o.n = 8;
  o.sampler.kind = "ddim";
  o.sampler.steps = 10;
  o.noise = torch::randn({8, 1, 28, 28}, make_generator(5));
  auto on_cpu = load_trained_model("fashion-classes");
  auto on_gpu = load_trained_model("fashion-classes", false, gpu);
  const auto cpu = generate(on_cpu, o);
  const auto cuda = generate(on_gpu, o);
  EXPECT_TRUE(cuda.device().is_cpu());  // generate() hands back CPU tensors wherever it ran
  EXPECT_LT(relative_error(cuda, cpu), 2e-2);
}

// The ancestral sampler draws its noise from the GPU's generator: the same seed repeats, another differs, and
// in bf16 the images are finite and in range.
TEST_F(Cuda, AncestralSamplesRepeatWithTheSeed) {
  auto model = load_trained_model("fashion-classes", false, gpu);
  GenerateOptions o;
  o.n = 4;
  o.seed = 3;
  o.sampler.steps = 20;
  const auto a = generate(model, o), b = generate(model, o);
  EXPECT_TRUE(torch::equal(a, b));
  o.seed = 4;
  EXPECT_FALSE(torch::equal(a, generate(model, o)));
  o.precision = Precision::bf16;
  const auto bf16 = generate(model, o);
  EXPECT_TRUE(torch::isfinite(bf16).all().item<bool>());
  EXPECT_LE(bf16.abs().max().item<double>(), 1.0);
}

// A run trained on the GPU and resumed from its checkpoint continues as the same run. On the CPU that is bit
// for bit (Trainer.ResumeIsBitExact); on the GPU the backward passes of cuDNN's convolutions and of nearest
// upsampling add with atomics in any order, so agreement is to rounding: 1e-4 relative over the weights, where
// a lost optimizer, EMA or generator state moves them by the learning rate's scale (≥ 1e-3).
TEST_F(Cuda, TrainingResumesAsTheSameRun) {
  const auto dir = ddpm_test::scratch_dir("runs");
  auto c = ddpm_test::tiny_unet_config(ddpm_test::write_idx_images("cuda_resume"), 12);
  c.device = "cuda";
  for (const std::string precision : {"fp32", "bf16"}) {
    SCOPED_TRACE(precision);
    c.precision = precision;
    auto straight = Trainer::create(c, dir + "/straight-" + precision, false);
    while (straight->step() < c.steps) ASSERT_FALSE(straight->train_step().skipped);
    EXPECT_TRUE(straight->model().parameters().front().is_cuda());
    {
      auto first = Trainer::create(c, dir + "/split-" + precision, false);
      while (first->step() < c.steps / 2) first->train_step();
      first->save_checkpoint();
    }
    auto resumed = Trainer::resume(dir + "/split-" + precision, std::nullopt);
    while (resumed->step() < c.steps) resumed->train_step();
    const auto weights = flat_parameters(straight->model());
    EXPECT_LT(relative_error(flat_parameters(resumed->model()), weights), 1e-4);
    EXPECT_LT(relative_error(flat_parameters(resumed->ema_model()), flat_parameters(straight->ema_model())), 1e-4);
    // The tolerance tells runs apart: another seed's run (another initialisation, noise and dropout) is far
    // outside it.
    auto other = c;
    other.seed = 4;
    auto different = Trainer::create(other, dir + "/other-" + precision, false);
    while (different->step() < c.steps) different->train_step();
    EXPECT_GT(relative_error(flat_parameters(different->model()), weights), 1e-3);
  }
}

// `ddpm bench` reads the caching allocator's peak on the GPU.
TEST_F(Cuda, PeakMemoryIsTheAllocatorsPeak) {
  const auto block = torch::empty({64, 1024, 1024}, torch::TensorOptions(gpu).dtype(torch::kFloat32));  // 256 MiB
  EXPECT_GE(peak_memory_mb(gpu), 256.0);
}
