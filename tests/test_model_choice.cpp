// The network a run gets for its data: presets fitted to any image size, and U-Net settings replacing theirs.
#include <gtest/gtest.h>

#include "ddpm/models/unet_plan.h"
#include "ddpm/models/model_choice.h"

using namespace ddpm;

// `fashion` attends at 7x7 of 28 px; at 32 px RGB its levels are 32, 16, 8 and 8 is the nearest.
TEST(ModelChoice, PresetAttentionMovesToTheNearestLevel) {
  auto c = model_for_data("fashion", {3, 32, 32});
  EXPECT_EQ(c.unet.in_channels, 3);
  EXPECT_EQ(c.unet.image_height, 32);
  EXPECT_EQ(c.unet.attention_resolutions, std::vector<int64_t>{8});
  EXPECT_NO_THROW(plan_unet(c.unet));
  EXPECT_EQ(model_for_data("fashion", {1, 28, 28}).unet.attention_resolutions, std::vector<int64_t>{7});  // unchanged
  EXPECT_EQ(model_for_data("fashion", {1, 64, 64}).unet.attention_resolutions, std::vector<int64_t>{16});
  // Ho et al.'s 16x16 stays 16x16 where a level has that size, at 64 px as at 32.
  EXPECT_EQ(model_for_data("cifar10", {3, 64, 64}).unet.attention_resolutions, std::vector<int64_t>{16});
  EXPECT_EQ(model_for_data("celebahq256", {3, 64, 64}).unet.attention_resolutions, std::vector<int64_t>{16});
  // With only two levels (64 and 32 px), 16 goes to the nearer, 32.
  EXPECT_EQ(model_for_data("cifar10", {3, 64, 64}, [] { UNetShape s; s.channel_mult = std::vector<int64_t>{1, 2}; return s; }())
                .unet.attention_resolutions, std::vector<int64_t>{32});
  std::string chosen;
  EXPECT_EQ(model_for_data("", {3, 32, 32}, {}, &chosen).unet.base_channels, 128);
  EXPECT_EQ(chosen, "cifar10");
  EXPECT_EQ(model_for_data("fashion", {}).unet.image_height, 28);  // no data: the preset's own input
}

TEST(ModelChoice, SettingsReplaceThePresets) {
  UNetShape s;
  s.base_channels = 64, s.channel_mult = std::vector<int64_t>{1, 2}, s.num_res_blocks = 1, s.dropout = 0.0;
  auto c = model_for_data("fashion", {3, 32, 32}, s);
  EXPECT_EQ(c.unet.base_channels, 64);
  EXPECT_EQ(c.unet.channel_mult, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.unet.num_res_blocks, 1);
  EXPECT_EQ(c.unet.dropout, 0.0);
  EXPECT_EQ(c.unet.attention_resolutions, std::vector<int64_t>{16});  // fitted to the two levels given
  s.attention_resolutions = std::vector<int64_t>{32, 16};
  EXPECT_EQ(model_for_data("fashion", {3, 32, 32}, s).unet.attention_resolutions, (std::vector<int64_t>{32, 16}));
  EXPECT_THROW(model_for_data("mlp-2d", {2}, s), std::invalid_argument);  // an MLP has no such settings
  EXPECT_THROW(model_for_data("fashion", {2}), std::invalid_argument);
  EXPECT_THROW(model_for_data("mlp-2d", {1, 28, 28}), std::invalid_argument);
  EXPECT_EQ(model_for_data("", {5}).mlp.data_dim, 5);
}
