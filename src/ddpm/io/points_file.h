// Points as CSV, the form `ddpm sample` and `ddpm edit` write for point models (data/points_reader.h reads it).
#pragma once

#include <torch/types.h>

#include <string>

namespace ddpm {

// One point per row, six significant digits, written atomically.
void write_points_csv(const std::string& path, const torch::Tensor& points);

}  // namespace ddpm
