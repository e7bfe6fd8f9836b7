// Dispatch from the spec's kind to a loader; adding a source is one loader function and one table row.
// Image sources then share the optional channel conversion and resize/crop.
#include "ddpm/data/data_spec.h"

#include <filesystem>
#include <stdexcept>

#include <fmt/ranges.h>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/core/random.h"
#include "ddpm/data/cifar10_reader.h"
#include "ddpm/data/class_names_file.h"
#include "ddpm/data/folder_reader.h"
#include "ddpm/data/idx_reader.h"
#include "ddpm/data/points_reader.h"
#include "ddpm/io/image_read.h"

namespace ddpm {
namespace {

namespace fs = std::filesystem;

void require_split(const std::string& split) {
  if (split != "train" && split != "test")
    throw std::invalid_argument(fmt::format("unknown split '{}', expected train or test", split));
}

// IMAGES[,LABELS[,NAMES]]: NAMES is a text file with one class name per line, in label order.
Dataset load_idx(const std::string& arg, const DataOptions&) {
  std::vector<std::string> parts;
  for (size_t from = 0;;) {
    const auto comma = arg.find(',', from);
    parts.push_back(arg.substr(from, comma - from));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  if (parts.size() > 3) throw std::invalid_argument(fmt::format("idx:{}: expected IMAGES[,LABELS[,NAMES]]", arg));
  const std::string& images = parts[0];
  auto x = read_idx_images(images);
  torch::Tensor y;
  std::vector<std::string> names;
  if (parts.size() >= 2) {
    y = read_idx_labels(parts[1]);
    if (y.size(0) != x.size(0))
      throw std::runtime_error(fmt::format("{} holds {} labels but {} holds {} images", parts[1], y.size(0),
                                           images, x.size(0)));
  }
  if (parts.size() == 3) names = read_class_names(parts[2]);
  return make_image_dataset("idx:" + arg, x, y, names);
}

// The standard MNIST file names, gzip or not, with '-' or '.' before "idx".
std::string find_mnist_file(const std::string& dir, const std::string& stem, const std::string& idx) {
  for (const char* sep : {"-", "."})
    for (const char* ext : {".gz", ""}) {
      const auto p = fs::path(dir) / (stem + sep + idx + ext);
      if (fs::exists(p)) return p.string();
    }
  throw std::runtime_error(fmt::format("{}: no {}-{}[.gz] file (expected the standard MNIST file names)", dir,
                                       stem, idx));
}

Dataset load_mnist_dir(const std::string& dir, const std::string& name, const DataOptions& options,
                       const std::vector<std::string>& class_names = {}) {
  require_split(options.split);
  if (!fs::is_directory(dir))
    throw std::runtime_error(fmt::format("{}: no such directory", dir));
  const std::string prefix = options.split == "train" ? "train" : "t10k";
  const auto images = find_mnist_file(dir, prefix + "-images", "idx3-ubyte");
  const auto labels = find_mnist_file(dir, prefix + "-labels", "idx1-ubyte");
  auto d = load_idx(images + "," + labels, options);
  d.name = name + "/" + options.split;
  if (!class_names.empty()) d.class_names = class_names;
  return d;
}

Dataset load_mnist(const std::string& dir, const DataOptions& options) {
  return load_mnist_dir(dir, "mnist:" + dir, options);
}

Dataset load_fashion_mnist(const std::string&, const DataOptions& options) {
  if (!fs::is_directory(kFashionMnistDir))
    throw std::runtime_error(fmt::format("{}: not found; install Debian's dataset-fashion-mnist package or "
                                         "use mnist:DIR with a copy of the files", kFashionMnistDir));
  return load_mnist_dir(kFashionMnistDir, "fashion-mnist", options, fashion_mnist_class_names());
}

Dataset load_cifar10(const std::string& dir, const DataOptions& options) {
  require_split(options.split);
  std::vector<torch::Tensor> images, labels;
  for (const auto& file : cifar10_files(dir, options.split)) {
    auto b = read_cifar10_batch(file);
    images.push_back(b.images);
    labels.push_back(b.labels);
  }
  return make_image_dataset("cifar10:" + dir + "/" + options.split, torch::cat(images), torch::cat(labels),
                            {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"});
}

Dataset load_folder(const std::string& dir, const DataOptions& options) {
  FolderOptions f;
  f.image_size = options.image_size;
  f.channels = options.channels;
  const auto folder = read_image_folder(dir, f);
  auto classes = folder_classes(dir, folder.files);
  return make_image_dataset("folder:" + dir, folder.images, classes.labels, classes.class_names);
}

constexpr int64_t kGmmPoints = 50000;

Dataset load_points(const std::string& file, const DataOptions&) {
  return make_point_dataset("points:" + file, read_points_csv(file));
}

// A fixed draw from a Gaussian mixture (built-in name or JSON file): 50,000 points, the train and test
// splits from different seeds, labels = the component each point came from.
Dataset load_gmm(const std::string& name, const DataOptions& options) {
  const auto mixture = load_mixture(name);
  auto gen = make_generator(options.split == "test" ? 2 : 1);
  auto sample = sample_mixture(mixture, kGmmPoints, gen);
  auto d = make_point_dataset(fmt::format("gmm:{}/{}", name, options.split), sample.points);
  std::vector<std::string> components;  // a class per component, even one no point was drawn from
  for (int64_t k = 0; k < mixture.components(); ++k) components.push_back(std::to_string(k));
  set_labels(d, sample.labels, components);
  return d;
}

struct DataSource {
  const char* kind;
  bool takes_argument;
  Dataset (*load)(const std::string& argument, const DataOptions& options);
  const char* help;
};

const DataSource kSources[] = {
    {"fashion-mnist", false, load_fashion_mnist, "fashion-mnist: Debian's Fashion-MNIST (the default)"},
    {"idx", true, load_idx, "idx:IMAGES[.gz][,LABELS[.gz][,NAMES.txt]]: any IDX image file, optional labels and "
                            "class names (one per line)"},
    {"mnist", true, load_mnist, "mnist:DIR: a folder with the four standard MNIST-format files"},
    {"cifar10", true, load_cifar10, "cifar10:DIR: CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)"},
    {"folder", true, load_folder, "folder:DIR: PNG/JPEG images under DIR, of one size or resized to one; in "
                                  "DIR/CLASS/ sub-folders, labelled by them"},
    {"points", true, load_points, "points:FILE.csv: one point per row, optional header line"},
    {"gmm", true, load_gmm, "gmm:NAME|FILE.json: 50,000 points of a Gaussian mixture (two-modes, ring8, grid25)"},
};

// Optional conversions shared by all image sources.
Dataset adapt_images(Dataset d, const DataOptions& options) {
  if (options.channels != 0 && options.channels != 1 && options.channels != 3)
    throw std::invalid_argument(fmt::format("channels must be 1 or 3, got {}", options.channels));
  auto x = d.images;
  if (options.channels == 3 && x.size(1) == 1) x = x.expand({-1, 3, -1, -1}).contiguous();
  if (options.channels == 1 && x.size(1) == 3) x = rgb_to_gray(x, 1);
  const int64_t s = options.image_size;
  if (s > 0 && (x.size(2) != s || x.size(3) != s)) {
    auto out = torch::empty({x.size(0), x.size(1), s, s}, torch::kUInt8);
    for (int64_t i = 0; i < x.size(0); ++i) out[i].copy_(resize_center_crop(x[i], s));
    x = out;
  }
  d.images = x;
  return d;
}

}  // namespace

Dataset load_dataset(const std::string& spec, const DataOptions& options) {
  if (options.image_size < 0) throw std::invalid_argument("image size must be >= 0");
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string argument = colon == std::string::npos ? "" : spec.substr(colon + 1);
  for (const auto& source : kSources) {
    if (kind != source.kind) continue;
    if (source.takes_argument && argument.empty())
      throw std::invalid_argument(fmt::format("data spec '{}' needs an argument: {}", spec, source.help));
    if (!source.takes_argument && colon != std::string::npos)
      throw std::invalid_argument(fmt::format("data spec '{}' takes no argument", kind));
    auto d = source.load(argument, options);
    return d.is_image() ? adapt_images(std::move(d), options) : d;
  }
  std::vector<std::string> known;
  for (const auto& source : kSources) known.emplace_back(source.kind);
  throw std::invalid_argument(fmt::format("unknown data source '{}' in '{}' (known: {})", kind, spec,
                                          fmt::join(known, ", ")));
}

std::vector<std::string> data_spec_help() {
  std::vector<std::string> lines;
  for (const auto& source : kSources) lines.emplace_back(source.help);
  return lines;
}

std::vector<std::string> fashion_mnist_class_names() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

}  // namespace ddpm
