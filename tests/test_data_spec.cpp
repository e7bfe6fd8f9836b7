// The --data dispatcher: unknown kinds, missing arguments, mnist:DIR file names, splits, conversions.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ddpm/data/data_spec.h"
#include "data_test_files.h"

using namespace ddpm;
using namespace ddpm_test;

namespace {

std::string error_of(const std::string& spec, const DataOptions& o = {}) {
  try {
    load_dataset(spec, o);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// An MNIST-style folder: train has 3 images of 2x2 (value 100 + i), t10k has 2; raw and gzip mixed,
// and the older '.'-separated names for the test files.
std::string mnist_dir() {
  const auto dir = scratch_dir("mnist");
  write_gzip(dir + "/train-images-idx3-ubyte.gz",
             concat(idx_header(0x803, {3, 2, 2}), {100, 100, 100, 100, 101, 101, 101, 101, 102, 102, 102, 102}));
  write_raw(dir + "/train-labels-idx1-ubyte", concat(idx_header(0x801, {3}), {7, 8, 9}));
  write_raw(dir + "/t10k-images.idx3-ubyte", concat(idx_header(0x803, {2, 2, 2}), std::vector<uint8_t>(8, 50)));
  write_raw(dir + "/t10k-labels.idx1-ubyte", concat(idx_header(0x801, {2}), {1, 2}));
  return dir;
}

}  // namespace

TEST(DataSpec, UnknownKindListsTheKnownOnes) {
  const auto msg = error_of("imagenet:/data");
  EXPECT_EQ(msg.rfind("unknown data source 'imagenet' in 'imagenet:/data' (known: fashion-mnist, idx, mnist, cifar10", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(error_of("mnist").find("needs an argument"), std::string::npos);
  EXPECT_NE(error_of("fashion-mnist:/x").find("takes no argument"), std::string::npos);
  DataOptions o;
  o.split = "validation";
  EXPECT_NE(error_of("mnist:" + scratch_dir("m"), o).find("unknown split 'validation'"), std::string::npos);
}

TEST(DataSpec, MnistDirSplits) {
  const auto dir = mnist_dir();
  const auto train = load_dataset("mnist:" + dir);
  EXPECT_EQ(train.name, "mnist:" + dir + "/train");
  ASSERT_EQ(train.images.sizes(), (std::vector<int64_t>{3, 1, 2, 2}));
  EXPECT_EQ(train.images[2].min().item<int>(), 102);
  EXPECT_TRUE(torch::equal(train.labels, torch::tensor({7, 8, 9}, torch::kInt64)));
  DataOptions o;
  o.split = "test";
  EXPECT_EQ(load_dataset("mnist:" + dir, o).size(), 2);
  EXPECT_NE(error_of("mnist:" + scratch_dir("empty")).find("no train-images-idx3-ubyte[.gz] file"),
            std::string::npos);
}

TEST(DataSpec, ChannelAndSizeConversion) {
  const auto dir = mnist_dir();
  DataOptions o;
  o.channels = 3;
  o.image_size = 4;
  const auto d = load_dataset("mnist:" + dir, o);
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{3, 3, 4, 4}));
  EXPECT_TRUE(torch::all(d.images[1] == 101).item<bool>());  // constant images stay constant when resized
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{3, 4, 4}));
}
