// Reader for low-dimensional point data in CSV: one point of d numbers per row, an optional header line.
#pragma once

#include <torch/types.h>

#include <string>

namespace ddpm {

// float32 [N, d]. Errors name the file and line: ragged rows, non-numbers, no rows at all.
torch::Tensor read_points_csv(const std::string& path);

}  // namespace ddpm
