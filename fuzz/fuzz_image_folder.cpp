// Fuzz target: the image-folder path (header pass, PNG/JPEG decoding, channel choice, resize and crop)
// on a folder holding the input as its one .png file, at its own size and resized to 8x8. Each read
// succeeds or throws std::runtime_error. The pixel cap is lowered to 2^20 so that forged headers are
// cheap to reject; the cap logic is the same at the default 64 megapixels.
#include <stdexcept>

#include "ddpm/data/folder_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ddpm::fuzz::write_input("folder/image.png", data, size);
  const auto dir = std::filesystem::path(path).parent_path().string();
  for (int64_t image_size : {0, 8}) {
    ddpm::FolderOptions options;
    options.image_size = image_size;
    options.workers = 1;
    options.max_pixels = int64_t{1} << 20;
    try {
      const auto out = ddpm::read_image_folder(dir, options);
      if (out.images.size(0) != 1 || (image_size > 0 && out.images.size(2) != image_size)) std::abort();
    } catch (const std::runtime_error&) {
    }
  }
  return 0;
}
