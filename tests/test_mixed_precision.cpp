// bf16 mixed precision (models/mixed_precision.h): the products run in bf16 and everything the user keeps
// stays fp32. bf16 keeps 8 significant bits (unit roundoff u = 2^-8 ≈ 0.4 %), so a product of bf16-rounded
// operands is off by about u relative to fp32; through the tiny U-Net's dozen products in sequence the
// output's relative error is a few u (measured: 0.6 % for the U-Net, 0.2 % for the MLP; gradient cosine
// 0.99997). The tolerances are 2 % (≈ 5 u) for the forward pass and cos > 0.999 for the gradient's
// direction, and a floor proves the bf16 path really ran.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/core/random.h"
#include "ddpm/inference/network_predictor.h"
#include "ddpm/models/mixed_precision.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/mlp.h"
#include "ddpm/models/resnet_block.h"
#include "ddpm/models/unet.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/training/gradient_step.h"

using namespace ddpm;

namespace {

UNetConfig tiny_unet() {
  UNetConfig c;
  c.in_channels = 1, c.image_height = 8, c.image_width = 8;
  c.base_channels = 16, c.channel_mult = {1, 2}, c.num_res_blocks = 1, c.norm_groups = 4;
  c.attention_resolutions = {4};  // the attention block's products too
  return c;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& reference) {
  return ((a - reference).norm() / reference.norm()).item<double>();
}

torch::Tensor flat_gradient(torch::nn::Module& net) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : net.parameters()) parts.push_back(p.grad().flatten());
  return torch::cat(parts);
}

}  // namespace

TEST(MixedPrecision, ScopesNestAndRestore) {
  EXPECT_EQ(compute_precision(), Precision::fp32);
  {
    const PrecisionScope bf16(Precision::bf16);
    EXPECT_EQ(compute_precision(), Precision::bf16);
    {
      const PrecisionScope fp32(Precision::fp32);
      EXPECT_EQ(compute_precision(), Precision::fp32);
    }
    EXPECT_EQ(compute_precision(), Precision::bf16);
  }
  EXPECT_EQ(compute_precision(), Precision::fp32);
}

// auto is bf16 only where the device has it natively and the model kind's products pay for the casts.
TEST(MixedPrecision, PrecisionChoice) {
  const bool native = has_native_bf16(torch::kCPU);
  for (const bool pays : {false, true}) {
    EXPECT_EQ(resolve_precision("fp32", torch::kCPU, pays), Precision::fp32);
    EXPECT_EQ(resolve_precision("bf16", torch::kCPU, pays), Precision::bf16);
    EXPECT_EQ(resolve_precision("auto", torch::kCPU, pays), native && pays ? Precision::bf16 : Precision::fp32);
  }
  EXPECT_THROW(resolve_precision("fp16", torch::kCPU, true), std::invalid_argument);
  EXPECT_EQ(choose_precision("auto", torch::kCPU, model_preset("mlp-2d")), Precision::fp32);
  EXPECT_EQ(choose_precision("auto", torch::kCPU, model_preset("fashion")), native ? Precision::bf16 : Precision::fp32);
  for (const auto p : {Precision::fp32, Precision::bf16}) EXPECT_EQ(resolve_precision(precision_name(p), torch::kCPU, false), p);
}

// The U-Net's forward in bf16: fp32 out, within 2 % of fp32, and not equal to it.
TEST(MixedPrecision, UNetForwardIsCloseToFp32) {
  torch::manual_seed(1);
  UNetImpl net(tiny_unet());
  net.eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({4, 1, 8, 8});
  const auto t = torch::tensor({0, 10, 500, 999}, torch::kLong);
  const auto fp32 = net.forward(x, t);
  torch::Tensor bf16;
  {
    const PrecisionScope scope(Precision::bf16);
    bf16 = net.forward(x, t);
  }
  EXPECT_EQ(bf16.dtype(), torch::kFloat32);
  const double error = relative_error(bf16, fp32);
  EXPECT_LT(error, 0.02);
  EXPECT_GT(error, 1e-4) << "the products did not run in bf16";
}

TEST(MixedPrecision, MLPForwardIsCloseToFp32) {
  torch::manual_seed(2);
  MLPConfig c;
  MLPImpl net(c);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({32, c.data_dim});
  const auto t = torch::randint(0, 1000, {32}, torch::kLong);
  const auto fp32 = net.forward(x, t);
  const PrecisionScope scope(Precision::bf16);
  const auto bf16 = net.forward(x, t);
  EXPECT_EQ(bf16.dtype(), torch::kFloat32);
  const double error = relative_error(bf16, fp32);
  EXPECT_LT(error, 0.02);
  EXPECT_GT(error, 1e-4);
}

// Between the layers the activations stay in the compute precision (no cast back to fp32 after a product):
// a convolution, a linear layer and a residual block hand on bf16 under a bf16 scope and fp32 outside it.
TEST(MixedPrecision, ActivationsStayInTheComputePrecision) {
  torch::manual_seed(7);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(16, 16, 3).padding(1));
  torch::nn::Linear linear(16, 8);
  ResnetBlock block(ResnetBlockOptions{16, 32, 64, 4, 1e-6, 0.1});
  block->train();
  const auto x = torch::randn({2, 16, 8, 8});
  const auto temb = torch::randn({2, 64});
  EXPECT_EQ(apply_conv(conv, x).scalar_type(), torch::kFloat32);
  EXPECT_EQ(block->forward(x, temb).scalar_type(), torch::kFloat32);
  const PrecisionScope scope(Precision::bf16);
  EXPECT_EQ(apply_conv(conv, x).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(apply_linear(linear, torch::randn({3, 16})).scalar_type(), torch::kBFloat16);
  const auto h = block->forward(apply_conv(conv, x), temb);
  EXPECT_EQ(h.scalar_type(), torch::kBFloat16);
  // Its gradient comes back to the fp32 input in fp32.
  auto input = x.clone().requires_grad_(true);
  block->forward(apply_conv(conv, input), temb).to(torch::kFloat32).sum().backward();
  EXPECT_EQ(input.grad().scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(input.grad()).all().item<bool>());
}

// Training in bf16: the weights, their gradients and the loss stay fp32, and the gradient points where the
// fp32 one does.
TEST(MixedPrecision, GradientsReachFp32WeightsInTheirDirection) {
  const auto schedule = make_schedule(ScheduleConfig{});
  torch::manual_seed(3);
  const auto x0 = torch::rand({8, 1, 8, 8}) * 2 - 1;
  std::vector<torch::Tensor> gradients;
  for (const auto precision : {Precision::fp32, Precision::bf16}) {
    torch::manual_seed(4);
    UNetImpl net(tiny_unet());
    torch::optim::SGD sgd(net.parameters(), 0.1);
    auto gen = make_generator(5);
    GradientOptions options;
    options.precision = precision;
    const auto step = compute_gradient(net, sgd, schedule, x0, gen, options);
    EXPECT_TRUE(std::isfinite(step.loss));
    EXPECT_EQ(step.per_example.dtype(), torch::kFloat32);
    for (const auto& p : net.parameters()) {
      EXPECT_EQ(p.dtype(), torch::kFloat32);
      EXPECT_EQ(p.grad().dtype(), torch::kFloat32);
    }
    gradients.push_back(flat_gradient(net));
  }
  const double cosine = torch::cosine_similarity(gradients[0], gradients[1], 0).item<double>();
  EXPECT_GT(cosine, 0.999);
  EXPECT_FALSE(torch::equal(gradients[0], gradients[1])) << "the bf16 step computed in fp32";
}

// The predictor's bf16 copies of the weights, made once, give exactly what casting them at every call gives;
// a weight changed since its copy was made is not served from the copy.
TEST(MixedPrecision, PredictorWeightCopiesChangeNothing) {
  torch::manual_seed(6);
  UNetImpl net(tiny_unet());
  net.eval();
  {
    const Bf16Weights copies(net);
    for (const auto& p : net.parameters()) {
      const auto copy = copies.find(p);
      ASSERT_TRUE(copy.defined());
      EXPECT_EQ(copy.dtype(), torch::kBFloat16);
      EXPECT_TRUE(torch::equal(copy, p.to(torch::kBFloat16)));
    }
    EXPECT_FALSE(copies.find(torch::zeros({2})).defined());
    torch::NoGradGuard no_grad;
    auto weight = net.parameters().front();  // a handle on the parameter itself
    weight.add_(1.0);
    EXPECT_FALSE(copies.find(weight).defined()) << "a stale copy of a changed weight";
  }
  const auto x = torch::randn({2, 1, 8, 8});
  const auto t = torch::tensor({3, 700}, torch::kLong);
  const auto predicted = network_predictor(net, make_schedule({}), Precision::bf16)(x, t);
  torch::NoGradGuard no_grad;
  const PrecisionScope scope(Precision::bf16);
  EXPECT_TRUE(torch::equal(predicted, net.forward(x, t)));
  EXPECT_EQ(predicted.dtype(), torch::kFloat32);
}
