#include "ddpm/io/points_file.h"

#include <fmt/format.h>

#include "ddpm/io/atomic_file.h"

namespace ddpm {

void write_points_csv(const std::string& path, const torch::Tensor& points) {
  auto p = points.to(torch::kFloat64).contiguous();
  const auto* v = p.data_ptr<double>();
  std::string text;
  for (int64_t i = 0; i < p.size(0); ++i) {
    for (int64_t j = 0; j < p.size(1); ++j) text += fmt::format("{}{:.6g}", j ? "," : "", v[i * p.size(1) + j]);
    text += "\n";
  }
  write_file_atomically(path, text);
}

}  // namespace ddpm
