// The tiny U-Net run of the trainer tests: 64 gray 8x8 images and a U-Net with one resolution change, attention
// and dropout, so that every part of a training step is there and a run of a dozen steps takes seconds.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ddpm/training/train_config.h"

namespace ddpm_test {

// 64 gray 8x8 images as a raw IDX file (magic 0x00000803, big-endian dimensions) under testing::TempDir().
inline std::string write_idx_images(const std::string& name) {
  const auto path = (std::filesystem::path(testing::TempDir()) / (name + ".idx")).string();
  std::ofstream out(path, std::ios::binary);
  const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0, 64, 0, 0, 0, 8, 0, 0, 0, 8};
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  for (int n = 0; n < 64; ++n)
    for (int p = 0; p < 64; ++p) out.put(static_cast<char>((n * 7 + p * 3) % 256));
  return path;
}

inline ddpm::TrainConfig tiny_unet_config(const std::string& idx, int64_t steps) {
  ddpm::TrainConfig c;
  c.data = "idx:" + idx;
  c.steps = steps;
  c.batch = 8;
  c.seed = 3;
  c.warmup = 2;
  c.ema_decay = 0.9;
  c.sample_every = 0;
  c.checkpoint_every = 0;
  c.model.arch = "unet";
  c.model.unet.in_channels = 1;
  c.model.unet.image_height = 8;
  c.model.unet.image_width = 8;
  c.model.unet.base_channels = 32;
  c.model.unet.channel_mult = {1, 1};
  c.model.unet.num_res_blocks = 1;
  c.model.unet.attention_resolutions = {4};
  c.model.unet.dropout = 0.1;  // dropout draws from the device's default generator: resume must restore it
  return c;
}

}  // namespace ddpm_test
