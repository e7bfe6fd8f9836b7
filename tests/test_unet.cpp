// The U-Net: exact parameter counts of the presets (against diffusers' counts), shapes, time
// conditioning, gradients, dropout modes, config validation, diffusers names and FLOP counting.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "ddpm/models/attention_block.h"
#include "ddpm/models/mixed_precision.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/timestep_embedding.h"
#include "ddpm/models/unet.h"

using namespace ddpm;

namespace {

// A small U-Net for fast forward passes: 8 channels, 4 norm groups.
UNetConfig tiny(int64_t channels, int64_t height, int64_t width, std::vector<int64_t> mult = {1, 2}) {
  UNetConfig c;
  c.in_channels = channels, c.image_height = height, c.image_width = width;
  c.base_channels = 8, c.channel_mult = std::move(mult), c.num_res_blocks = 1, c.norm_groups = 4;
  c.attention_resolutions = {std::min(height, width) >> (c.channel_mult.size() - 1)};
  return c;
}

torch::Tensor steps(std::vector<int64_t> t) { return torch::tensor(t, torch::kLong); }

}  // namespace

TEST(UNet, PresetParameterCountsAreExact) {
  // 35,746,307: the paper's 35.7M and the count of diffusers' google/ddpm-cifar10-32.
  EXPECT_EQ(parameter_count(*build_model(model_preset("cifar10"))), 35'746'307);
  EXPECT_EQ(parameter_count(*build_model(model_preset("fashion"))), 1'623'169);
}

// The output is laid out [B, C, H, W] in memory (the convolutions inside run channels-last on the CPU), in
// both precisions.
TEST(UNet, OutputShapeEqualsInputShape) {
  torch::manual_seed(0);
  for (const auto& c : {tiny(1, 28, 28, {1, 2, 2}), tiny(3, 32, 32), tiny(4, 16, 24, {1, 2, 2})})
    for (const auto precision : {Precision::fp32, Precision::bf16}) {
      UNetImpl net(c);
      const auto x = torch::randn({2, c.in_channels, c.image_height, c.image_width});
      const PrecisionScope scope(precision);
      const auto y = net.forward(x, steps({0, 999}));
      EXPECT_EQ(y.sizes(), x.sizes()) << c.image_height << "x" << c.image_width << "x" << c.in_channels;
      EXPECT_TRUE(y.is_contiguous()) << c.in_channels << " channels";
      EXPECT_EQ(y.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
}

TEST(UNet, DifferentTimestepsGiveDifferentOutputs) {
  torch::manual_seed(1);
  UNetImpl net(tiny(1, 8, 8));
  net.eval();
  const auto x = torch::randn({1, 1, 8, 8}).repeat({2, 1, 1, 1});
  const auto y = net.forward(x, steps({10, 500}));
  EXPECT_GT((y[0] - y[1]).abs().max().item<double>(), 1e-4);
}

TEST(UNet, EveryParameterReceivesAGradient) {
  torch::manual_seed(2);
  UNetImpl net(tiny(3, 8, 8));
  net.forward(torch::randn({2, 3, 8, 8}), steps({3, 700})).pow(2).sum().backward();
  for (const auto& p : net.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().max().item<double>(), 0.0) << p.key();
  }
}

TEST(UNet, EvalIsDeterministicTrainAppliesDropout) {
  torch::manual_seed(3);
  auto c = tiny(1, 8, 8);
  c.dropout = 0.5;
  UNetImpl net(c);
  const auto x = torch::randn({2, 1, 8, 8});
  const auto t = steps({5, 50});
  net.eval();
  EXPECT_TRUE(torch::equal(net.forward(x, t), net.forward(x, t)));
  net.train();
  EXPECT_FALSE(torch::equal(net.forward(x, t), net.forward(x, t)));
}

TEST(UNet, UnhalvableSizeIsRejectedAtConstruction) {
  auto c = tiny(1, 30, 28, {1, 2, 2});  // 30 → 15 at level 1 cannot be halved again
  try {
    UNetImpl net(c);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("image_height 30"), std::string::npos) << m;
    EXPECT_NE(m.find("level 1"), std::string::npos) << m;
  }
  c = tiny(1, 28, 28, {1, 2, 2});
  c.attention_resolutions = {5};
  EXPECT_THROW(UNetImpl{c}, std::invalid_argument);  // no level has size 5
  c = tiny(1, 28, 28);
  c.norm_groups = 3;
  EXPECT_THROW(UNetImpl{c}, std::invalid_argument);  // 3 does not divide 8 channels
}

TEST(UNet, SubmoduleNamesFollowDiffusersUNet2DModel) {
  UNetImpl net(model_preset("fashion").unet);
  std::set<std::string> names;
  for (const auto& p : net.named_parameters()) names.insert(p.key());
  for (const char* key : {"conv_in.weight", "time_embedding.linear_1.weight", "time_embedding.linear_2.bias",
                          "down_blocks.0.resnets.0.norm1.weight", "down_blocks.0.resnets.1.time_emb_proj.weight",
                          "down_blocks.0.downsamplers.0.conv.weight", "down_blocks.1.resnets.0.conv_shortcut.weight",
                          "down_blocks.2.attentions.1.to_q.weight", "mid_block.resnets.0.conv1.weight",
                          "mid_block.attentions.0.group_norm.weight", "mid_block.attentions.0.to_out.0.weight",
                          "mid_block.resnets.1.conv2.bias", "up_blocks.0.resnets.2.conv_shortcut.weight",
                          "up_blocks.0.attentions.2.to_v.bias", "up_blocks.1.upsamplers.0.conv.weight",
                          "conv_norm_out.weight", "conv_out.bias"})
    EXPECT_TRUE(names.count(key)) << key;
  for (const char* key : {"down_blocks.2.downsamplers.0.conv.weight", "up_blocks.2.upsamplers.0.conv.weight",
                          "down_blocks.0.attentions.0.to_q.weight", "up_blocks.0.resnets.3.conv1.weight"})
    EXPECT_FALSE(names.count(key)) << key;
}

TEST(UNet, SinusoidalEmbeddingMatchesClosedForm) {
  // [sin(t ω_i), cos(t ω_i)], ω_i = 10000^(-i / (h - 1)), h = 4; float32 arithmetic, hence 1e-6.
  const auto e = sinusoidal_embedding(steps({0, 1, 999}), 8);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, 8}));
  for (int row = 0; row < 3; ++row) {
    const double t = std::vector<double>{0, 1, 999}[row];
    for (int i = 0; i < 4; ++i) {
      const double w = std::pow(10000.0, -i / 3.0);
      EXPECT_NEAR(e[row][i].item<double>(), std::sin(t * w), 1e-6 * std::max(1.0, t)) << row << "," << i;
      EXPECT_NEAR(e[row][4 + i].item<double>(), std::cos(t * w), 1e-6 * std::max(1.0, t)) << row << "," << i;
    }
  }
  EXPECT_EQ(sinusoidal_embedding(steps({7}), 9)[0][8].item<double>(), 0.0);  // odd width: zero pad
}

TEST(UNet, AttentionProductMatchesDirectFormula) {
  torch::manual_seed(4);
  const auto q = torch::randn({2, 5, 6}), k = torch::randn({2, 5, 6}), v = torch::randn({2, 5, 6});
  const auto expected = torch::softmax(torch::matmul(q, k.transpose(1, 2)) / std::sqrt(6.0), -1).matmul(v);
  // float32 products of length 6 and a softmax: agreement to 1e-5 absolute.
  EXPECT_TRUE(torch::allclose(scaled_dot_product(q, k, v), expected, 1e-5, 1e-5));
}

// Multi-head attention (diffusers' attention_head_dim = d): head j attends with its own d contiguous channels.
TEST(UNet, MultiHeadAttentionSplitsChannelsIntoHeads) {
  torch::manual_seed(5);
  AttentionBlock block(8, /*heads=*/2, /*norm_groups=*/4, 1e-6);
  const auto x = torch::randn({2, 8, 3, 3});
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    const auto p = block->named_parameters();
    const auto linear = [&](const std::string& name, const torch::Tensor& h) {
      return torch::nn::functional::linear(h, p[name + ".weight"], p[name + ".bias"]);
    };
    auto h = torch::nn::functional::group_norm(x, torch::nn::functional::GroupNormFuncOptions(4)
                                                      .weight(p["group_norm.weight"]).bias(p["group_norm.bias"]).eps(1e-6))
                 .flatten(2).transpose(1, 2);  // [B, 9, 8]
    const auto q = linear("to_q", h), k = linear("to_k", h), v = linear("to_v", h);
    std::vector<torch::Tensor> heads;
    for (int64_t j = 0; j < 2; ++j) {
      const auto qj = q.narrow(2, 4 * j, 4), kj = k.narrow(2, 4 * j, 4), vj = v.narrow(2, 4 * j, 4);
      heads.push_back(torch::softmax(qj.matmul(kj.transpose(1, 2)) / 2.0, -1).matmul(vj));  // √d = 2
    }
    expected = x + linear("to_out.0", torch::cat(heads, 2)).transpose(1, 2).reshape({2, 8, 3, 3});
  }
  const auto first = block->forward(x);
  EXPECT_TRUE(torch::allclose(first, expected, 1e-5, 1e-5))
      << (first - expected).abs().max().item<double>() << " " << (block->forward(x) - expected).abs().max().item<double>();
}

// flip_sin_to_cos and freq_shift (the settings of diffusers' default UNet2DModel): [cos, sin] with
// ω_i = exp(-ln(10000) i / half).
TEST(UNet, SinusoidalEmbeddingFlippedAndUnshifted) {
  const auto e = sinusoidal_embedding(torch::tensor({1.0, 999.0}), 8, /*flip_sin_to_cos=*/true, /*freq_shift=*/0);
  for (int64_t b = 0; b < 2; ++b) {
    const double t = b == 0 ? 1.0 : 999.0;
    for (int64_t i = 0; i < 4; ++i) {
      const double a = t * std::exp(-std::log(10000.0) * static_cast<double>(i) / 4.0);
      EXPECT_NEAR(e[b][i].item<double>(), std::cos(a), 2e-4) << b << " " << i;
      EXPECT_NEAR(e[b][4 + i].item<double>(), std::sin(a), 2e-4) << b << " " << i;
    }
  }
}

// downsample_padding 1 pads all sides (diffusers' default); 0 only bottom/right (Ho et al.): same shapes,
// different numbers, and a config of either is its own network.
TEST(UNet, DownsamplePaddingChangesTheNetwork) {
  ModelConfig m;
  m.unet.image_height = m.unet.image_width = 8, m.unet.base_channels = 8, m.unet.channel_mult = {1, 1};
  m.unet.num_res_blocks = 1, m.unet.attention_resolutions = {}, m.unet.norm_groups = 4, m.unet.dropout = 0.0;
  torch::manual_seed(6);
  auto a = build_model(m);
  m.unet.downsample_padding = 1;
  auto b = build_model(m);
  {
    torch::NoGradGuard no_grad;
    auto pb = b->named_parameters();
    for (const auto& p : a->named_parameters()) pb[p.key()].copy_(p.value());
  }
  a->eval(), b->eval();
  const auto x = torch::randn({1, 1, 8, 8});
  const auto t = torch::tensor({int64_t{10}});
  EXPECT_EQ(a->forward(x, t).sizes(), b->forward(x, t).sizes());
  EXPECT_GT((a->forward(x, t) - b->forward(x, t)).abs().max().item<double>(), 1e-4);
}

TEST(UNet, FlopsMatchHandCountForATinyConfig) {
  // 4x4x1 image, base 8, one level, 1 res block, time MLP 8→32→32, no attention anywhere.
  ModelConfig m;
  m.unet.in_channels = 1, m.unet.image_height = m.unet.image_width = 4, m.unet.base_channels = 8;
  m.unet.channel_mult = {1}, m.unet.num_res_blocks = 1, m.unet.attention_resolutions = {};
  m.unet.mid_attention = false, m.unet.norm_groups = 4;
  const int64_t hw = 16;
  const int64_t time_mlp = 2 * (8 * 32 + 32 * 32);
  const int64_t conv_in = 2 * 1 * 8 * 9 * hw, conv_out = 2 * 8 * 1 * 9 * hw;
  auto resnet = [&](int64_t in, int64_t out) {  // conv1 + time projection + conv2 (+ 1x1 shortcut)
    return 2 * in * out * 9 * hw + 2 * 32 * out + 2 * out * out * 9 * hw + (in != out ? 2 * in * out * hw : 0);
  };
  // down: 8→8; mid: 8→8 twice; up: (8 + 8 skip)→8 twice (skips: conv_in's and the down resnet's).
  const int64_t expected = time_mlp + conv_in + resnet(8, 8) + 2 * resnet(8, 8) + 2 * resnet(16, 8) + conv_out;
  EXPECT_EQ(forward_flops_per_sample(m), expected);

  // Mid attention adds 4 projections (N C² each) and two N² C products, times 2 FLOPs.
  m.unet.mid_attention = true;
  EXPECT_EQ(forward_flops_per_sample(m) - expected, 2 * (4 * hw * 8 * 8 + 2 * hw * hw * 8));
}
