// Writing images: PNG files from uint8 tensors, and grids of model-range samples (the sample sheets of
// training and `ddpm sample`). Gray images stay single-channel PNGs.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

// The file endings the image writers below accept, lowercase with the dot.
std::vector<std::string> image_output_extensions();

// Writes uint8 [C, H, W] (C = 1, 3 or 4) or [H, W] pixels as a PNG, atomically (io/atomic_file.h); throws
// naming the path on failure, leaving any previous file there intact.
void write_png(const std::string& path, const torch::Tensor& image);

// Tiles [N, C, H, W] floats in [-1, 1] into one uint8 [C, H', W'] image, `nrow` images per row,
// `padding` black pixels around each (torchvision's layout). Values outside [-1, 1] are clipped.
torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow, int64_t padding = 2);

// Enlarges uint8 [C, H, W] by an integer factor with nearest-neighbour copies (28x28 grids are tiny).
torch::Tensor upscale_nearest(const torch::Tensor& image, int64_t factor);

// make_grid + upscale_nearest + write_png. scale 0 picks one for viewing: x2 for images of 32 px or less.
void save_image_grid(const std::string& path, const torch::Tensor& images, int64_t nrow,
                     int64_t padding = 2, int64_t scale = 1);

}  // namespace ddpm
