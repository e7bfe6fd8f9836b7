// Reader for a folder tree of PNG/JPEG images: decoded in parallel, optionally resized (shorter side)
// and center-cropped to a square, as 1 or 3 channels.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/io/image_read.h"

namespace ddpm {

struct FolderOptions {
  int64_t image_size = 0;  // 0: keep the images' own size, which must then be the same for all
  int64_t channels = 0;    // 1 or 3; 0: 1 if every image is gray (with or without alpha), else 3
  int64_t max_pixels = kMaxImagePixels;  // per image, checked from the header before decoding
  int64_t workers = 0;     // decoding threads; 0: the machine's cores
};

struct FolderImages {
  torch::Tensor images;  // uint8 [N, C, S, S] (or [N, C, H, W] without image_size), files in sorted order
  int64_t skipped = 0;   // unreadable or oversized files left out (one warning line on stderr counts them)
  std::vector<std::string> files;  // the path of each image, in order
};

struct FolderClasses {
  torch::Tensor labels;                  // int64 [N]: the index of each image's sub-folder among the names
  std::vector<std::string> class_names;  // the sub-folders' names, sorted
};

// Classes from the layout DIR/CLASS/image (every image one level below DIR, at least two such sub-folders whose
// names follow the rules of class names, models/model_config.h); nothing (an undefined labels tensor) for any
// other layout.
FolderClasses folder_classes(const std::string& dir, const std::vector<std::string>& files);

FolderImages read_image_folder(const std::string& dir, const FolderOptions& options);

// Resizes uint8 [C, H, W] so the shorter side is `size`, then crops the centre size x size square.
torch::Tensor resize_center_crop(const torch::Tensor& image, int64_t size);

}  // namespace ddpm
