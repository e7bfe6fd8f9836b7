// Writes the fuzzers' seed corpus into OUT/<harness>/: small valid files made with ddpm's own writers (and
// stb's), each also truncated and with a flipped byte, plus hand-broken files that each break one rule.
// Usage: fuzz_make_corpus OUT   (run by fuzz/make-corpus)
#include <stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "ddpm/analytic/gaussian_mixture.h"
#include "ddpm/data/cifar10_reader.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/models/model_config.h"
#include "ddpm/models/model_file.h"
#include "ddpm/training/train_config.h"

namespace fs = std::filesystem;
using namespace ddpm;

namespace {

fs::path out_root;
int64_t files_written = 0;

void put(const std::string& harness, const std::string& name, const std::string& bytes) {
  const auto dir = out_root / harness;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
  ++files_written;
}

// The file, its first half, and a copy with the byte at `flip_at` (default: the middle) inverted.
void put_with_variants(const std::string& harness, const std::string& name, const std::string& bytes,
                       size_t flip_at = std::string::npos) {
  put(harness, name, bytes);
  put(harness, name + ".cut", bytes.substr(0, bytes.size() / 2));
  std::string flipped = bytes;
  if (!flipped.empty()) flipped[std::min(flip_at, flipped.size() / 2)] ^= '\xFF';
  put(harness, name + ".flip", flipped);
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int b = 0; b < 8; ++b) s[b] = static_cast<char>((n >> (8 * b)) & 0xFF);
  return s;
}

std::string raw_safetensors(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

void safetensors_seeds() {
  SafetensorsContent c;
  c.tensors = {{"w", torch::arange(6, torch::kFloat32).reshape({2, 3})},
               {"b", torch::tensor({int64_t{1}, int64_t{-2}})},
               {"h", torch::ones({3}, torch::kFloat16)},
               {"m", torch::tensor({1, 0}).to(torch::kBool)},
               {"empty", torch::zeros({0, 4})},
               {"scalar", torch::tensor(2.5, torch::kFloat64)}};
  c.metadata = {{"format", "pt"}, {"note", "ünïcödé"}};
  put_with_variants("safetensors", "mixed.safetensors", encode_safetensors(c), 3);
  ModelConfig mlp = model_preset("mlp-2d");  // shrunk: a small seed keeps the fuzzer fast
  mlp.mlp.hidden = 4, mlp.mlp.depth = 1, mlp.mlp.time_embed_dim = 4;
  auto net = build_model(mlp);
  SafetensorsContent model;
  model.tensors = state_dict_tensors(*net);
  model.metadata = {{"format", "pt"}, {kModelConfigKey, nlohmann::json(mlp).dump()}};
  put_with_variants("safetensors", "model.safetensors", encode_safetensors(model));
  const std::string f32 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  put("safetensors", "bad-dup-key", raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')));
  put("safetensors", "bad-overlap", raw_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(12, '\0')));
  put("safetensors", "bad-overflow", raw_safetensors(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", ""));
  put("safetensors", "bad-dtype", raw_safetensors(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", "xx"));
  put("safetensors", "bad-metadata", raw_safetensors(R"({"__metadata__":{"k":1}})", ""));
  put("safetensors", "bad-trailing", raw_safetensors(f32, std::string(12, '\0')));
  put("safetensors", "bad-length", le64(100'000'001) + f32);
}

std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, int64_t payload) {
  std::string s;
  auto be = [&](uint32_t v) {
    for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>(v >> sh));
  };
  be(magic);
  for (auto d : dims) be(d);
  for (int64_t i = 0; i < payload; ++i) s.push_back(static_cast<char>(i * 37));
  return s;
}

std::string gzip(const std::string& bytes) {
  const auto tmp = out_root / ".gzip.tmp";
  gzFile f = gzopen(tmp.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  std::ifstream in(tmp, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(tmp);
  return out;
}

void idx_seeds() {
  const auto images = idx_bytes(0x803, {3, 4, 5}, 60);
  const auto labels = idx_bytes(0x801, {7}, 7);
  put_with_variants("idx", "images.idx", images, 3);
  put_with_variants("idx", "labels.idx", labels, 3);
  put_with_variants("idx", "images.idx.gz", gzip(images));
  put_with_variants("idx", "labels.idx.gz", gzip(labels));
  put("idx", "bad-trailing.idx", images + "x");
  put("idx", "bad-trailing.idx.gz", gzip(images + "x"));
  put("idx", "bad-huge-dims.idx.gz", gzip(idx_bytes(0x803, {0x7fffffff, 0x7fffffff, 2}, 16)));
  put("idx", "bad-zero-dim.idx", idx_bytes(0x803, {3, 0, 5}, 0));
}

void cifar_seeds() {
  std::string records;
  for (int r = 0; r < 3; ++r) {
    records.push_back(static_cast<char>(r * 4));  // labels 0, 4, 8
    for (int64_t p = 0; p < kCifarRecordBytes - 1; ++p) records.push_back(static_cast<char>(p * (r + 1)));
  }
  put("cifar10", "three-records", records);
  put("cifar10", "bad-label", std::string(1, '\x0A') + records.substr(1));
  put("cifar10", "bad-label-in-second", records.substr(0, kCifarRecordBytes) + '\xFF');
}

void write_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
}

void image_seeds() {
  for (int channels : {1, 2, 3, 4}) {
    const int w = 5, h = 3;
    std::vector<unsigned char> pixels(w * h * channels);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i * 29);
    std::string png, jpg;
    stbi_write_png_to_func(write_to_string, &png, w, h, channels, pixels.data(), w * channels);
    put_with_variants("image_folder", fmt::format("c{}.png", channels), png);
    if (channels == 1 || channels == 3) {
      stbi_write_jpg_to_func(write_to_string, &jpg, w, h, channels, pixels.data(), 90);
      put_with_variants("image_folder", fmt::format("c{}.jpg", channels), jpg);
    }
  }
  // A PNG header declaring 100000x100000 pixels (over the cap) with no data.
  std::string huge("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x00\0\0\0", 29);
  put("image_folder", "bad-huge.png", huge + std::string(4, '\0'));
}

void config_seeds() {
  TrainConfig train;
  put_with_variants("config", "config.json", nlohmann::json(train).dump(2));
  put("config", "state.json", nlohmann::json{{"format", 1}, {"step", 10}, {"config", train}}.dump());
  for (const auto& name : preset_names())
    put_with_variants("config", "model-" + name + ".json", nlohmann::json(model_preset(name)).dump());
  put_with_variants("config", "mixture.json",
                    R"({"weights":[0.5,0.5],"means":[[-1,0],[1,0]],"covariances":[[[0.1,0],[0,0.1]],[[0.2,0.05],[0.05,0.1]]]})");
  put("config", "mixture-stds.json", R"({"weights":[0.3,0.7],"means":[[0],[2]],"stds":[0.5,1]})");
  auto wrong = nlohmann::json(train);
  wrong["steps"] = 1e300;
  put("config", "bad-float-for-int.json", wrong.dump());
  wrong = nlohmann::json(train);
  wrong["model"]["unet"]["channel_mult"] = "1,2";
  put("config", "bad-type.json", wrong.dump());
  put("config", "bad-deep.json", std::string(10000, '[') + std::string(10000, ']'));
  put("config", "bad-mixture.json", R"({"weights":[1],"means":[[0,0]],"covariances":[[[1,2],[2,1]]]})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  out_root = argv[1];
  fs::create_directories(out_root);
  safetensors_seeds();
  idx_seeds();
  cifar_seeds();
  image_seeds();
  config_seeds();
  std::printf("%lld seed files in %s\n", static_cast<long long>(files_written), out_root.c_str());
  return 0;
}
