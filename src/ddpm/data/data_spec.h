// The --data specification: a name or "kind:argument" that picks a loader (see docs/DATA.md).
//   fashion-mnist | idx:IMAGES[,LABELS] | mnist:DIR | cifar10:DIR | folder:DIR | points:FILE.csv | gmm:NAME
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/data/dataset.h"

namespace ddpm {

// Debian's dataset-fashion-mnist package installs the four gzip IDX files here.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct DataOptions {
  std::string split = "train";  // train | test, for the sources that have both
  int64_t image_size = 0;       // images resized (shorter side) and center-cropped to this; 0 keeps them
  int64_t channels = 0;         // 1 or 3 to convert images; 0 keeps them (folder: 1 if all are gray)
};

// Loads the whole data set into memory; throws naming the file and the problem on bad input, and
// std::invalid_argument "unknown data spec ..." for an unknown kind.
Dataset load_dataset(const std::string& spec, const DataOptions& options = {});

// One line per accepted kind, for --help texts.
std::vector<std::string> data_spec_help();

// Fashion-MNIST's ten class names, in label order 0..9.
std::vector<std::string> fashion_mnist_class_names();

}  // namespace ddpm
