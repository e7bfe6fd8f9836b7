// Folder tree reader. Two parallel passes: headers first (to pick channels, check sizes and enforce the
// pixel cap without decoding), then decode + resize + crop straight into the preallocated batch tensor.
#include "ddpm/data/folder_reader.h"

#include "ddpm/models/model_config.h"

#include <stb_image_resize.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

#include "ddpm/io/remedy.h"

namespace ddpm {
namespace {

namespace fs = std::filesystem;

// The whole decoded set lives in memory as uint8; beyond this the caller should pick a smaller --image-size.
constexpr int64_t kMaxFolderBytes = int64_t{16} << 30;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> list_images(const std::string& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error(fmt::format("{}: no such directory", dir));
  std::vector<std::string> files;
  // Symlinked folders are followed, but each real folder only once: a link to a parent (a loop) would
  // otherwise be walked until the path grows too long, and a folder linked twice would count twice.
  std::set<fs::path> seen = {fs::canonical(dir)};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory(ec) && !seen.insert(fs::canonical(it->path(), ec)).second) it.disable_recursion_pending();
    if (it->is_regular_file(ec) && is_image_file(it->path())) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());  // a stable order, so indices mean the same file on every run
  return files;
}

// Runs fn(i) for i in [0, n) on `workers` threads; fn must not throw.
template <class Fn>
void parallel_for_each(int64_t n, int64_t workers, Fn fn) {
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  for (int64_t k = 1; k < std::min(workers, n); ++k) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

}  // namespace

torch::Tensor resize_center_crop(const torch::Tensor& image, int64_t size) {
  TORCH_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8, "resize_center_crop: expected uint8 [C, H, W]");
  TORCH_CHECK(size > 0, "resize_center_crop: size must be positive, got ", size);
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  auto out = image;
  int64_t nh = h, nw = w;
  if (std::min(h, w) != size) {
    const double scale = static_cast<double>(size) / static_cast<double>(std::min(h, w));
    nh = std::max(size, static_cast<int64_t>(std::lround(h * scale)));
    nw = std::max(size, static_cast<int64_t>(std::lround(w * scale)));
    const auto hwc = image.permute({1, 2, 0}).contiguous();
    auto resized = torch::empty({nh, nw, c}, torch::kUInt8);
    if (!stbir_resize_uint8(hwc.data_ptr<uint8_t>(), static_cast<int>(w), static_cast<int>(h), 0,
                            resized.data_ptr<uint8_t>(), static_cast<int>(nw), static_cast<int>(nh), 0,
                            static_cast<int>(c)))
      throw std::runtime_error("stb_image_resize failed");
    out = resized.permute({2, 0, 1});
  }
  const int64_t y = (nh - size) / 2, x = (nw - size) / 2;
  return out.slice(1, y, y + size).slice(2, x, x + size).contiguous();
}

FolderClasses folder_classes(const std::string& dir, const std::vector<std::string>& files) {
  std::vector<std::string> folder_of;
  for (const auto& file : files) {
    const auto relative = fs::path(file).lexically_relative(dir);
    if (std::distance(relative.begin(), relative.end()) != 2) return {};
    folder_of.push_back(relative.begin()->string());
  }
  std::vector<std::string> names = folder_of;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.size() < 2) return {};
  // Sub-folders that cannot name classes (one called none; numbered shards such as 00000/, 01000/, whose numbers
  // are not their positions) are a layout, not classes: the images load without labels.
  try {
    check_class_names(names, dir);
  } catch (const std::invalid_argument&) {
    return {};
  }
  FolderClasses out;
  out.labels = torch::empty({static_cast<int64_t>(files.size())}, torch::kLong);
  auto* label = out.labels.data_ptr<int64_t>();
  for (size_t i = 0; i < folder_of.size(); ++i)
    label[i] = std::lower_bound(names.begin(), names.end(), folder_of[i]) - names.begin();
  out.class_names = std::move(names);
  return out;
}

FolderImages read_image_folder(const std::string& dir, const FolderOptions& options) {
  if (options.channels != 0 && options.channels != 1 && options.channels != 3)
    throw std::invalid_argument(fmt::format("channels must be 1 or 3, got {}", options.channels));
  if (options.image_size < 0) throw std::invalid_argument("image size must be positive");
  const auto files = list_images(dir);
  if (files.empty()) throw std::runtime_error(fmt::format("{}: no PNG or JPEG images found", dir));
  const int64_t n = static_cast<int64_t>(files.size());
  const int64_t workers = options.workers > 0 ? options.workers
                                              : std::max<int64_t>(1, std::thread::hardware_concurrency());

  std::vector<ImageInfo> infos(n);
  std::vector<std::string> errors(n);
  parallel_for_each(n, workers, [&](int64_t i) {
    try {
      infos[i] = read_image_info(files[i], options.max_pixels);
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::vector<int64_t> ok;
  for (int64_t i = 0; i < n; ++i)
    if (errors[i].empty()) ok.push_back(i);
  if (ok.empty()) throw std::runtime_error(fmt::format("{}: none of the {} image files is readable ({})", dir, n, errors[0]));

  int64_t channels = options.channels;
  if (channels == 0) {
    const bool all_gray = std::all_of(ok.begin(), ok.end(), [&](int64_t i) { return infos[i].channels <= 2; });
    channels = all_gray ? 1 : 3;
  }
  int64_t out_h = options.image_size, out_w = options.image_size;
  if (options.image_size == 0) {
    const auto& first = infos[ok[0]];
    for (int64_t i : ok)
      if (infos[i].width != first.width || infos[i].height != first.height)
        throw ActionableError(fmt::format("{}: images have different sizes ({} is {}x{}, {} is {}x{})", dir,
                                          files[ok[0]], first.width, first.height, files[i], infos[i].width,
                                          infos[i].height),
                              Remedy::choose_image_size);
    out_h = first.height;
    out_w = first.width;
  }
  const int64_t m = static_cast<int64_t>(ok.size());
  if (m * channels * out_h * out_w > kMaxFolderBytes)
    throw ActionableError(fmt::format("{}: {} images of {}x{}x{} exceed {} GiB in memory", dir, m, channels, out_h,
                                      out_w, kMaxFolderBytes >> 30),
                          Remedy::smaller_image_size);

  auto images = torch::empty({m, channels, out_h, out_w}, torch::kUInt8);
  parallel_for_each(m, workers, [&](int64_t k) {
    const int64_t i = ok[k];
    try {
      auto img = read_image(files[i], channels, options.max_pixels);
      if (options.image_size > 0) img = resize_center_crop(img, options.image_size);
      // Plain memcpy into the worker's own slot: no shared tensor state touched across threads.
      std::memcpy(images.data_ptr<uint8_t>() + k * img.numel(), img.data_ptr<uint8_t>(), img.numel());
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::vector<int64_t> keep;
  std::string first_error;
  for (int64_t k = 0; k < m; ++k)
    if (errors[ok[k]].empty()) keep.push_back(k);
  for (int64_t i = 0; i < n && first_error.empty(); ++i) first_error = errors[i];
  if (keep.empty()) throw std::runtime_error(fmt::format("{}: none of the {} image files is readable ({})", dir, n, first_error));

  FolderImages out;
  out.skipped = n - static_cast<int64_t>(keep.size());
  out.images = static_cast<int64_t>(keep.size()) == m ? images : images.index_select(0, torch::tensor(keep));
  for (const int64_t k : keep) out.files.push_back(files[ok[k]]);
  if (out.skipped > 0)
    std::fprintf(stderr, "warning: %s: skipped %lld of %lld image files that could not be read (first: %s)\n",
                 dir.c_str(), static_cast<long long>(out.skipped), static_cast<long long>(n), first_error.c_str());
  return out;
}

}  // namespace ddpm
