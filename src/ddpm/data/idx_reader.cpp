// IDX reading through zlib's gz* interface, which also reads uncompressed files. Two zlib traps shape
// the code: gzread passes non-gzip input through unchanged (so raw files work, and for them the exact
// size is checked up front), and a truncated gzip stream shows only in gzerror / gzclose, not as -1.
#include "ddpm/data/idx_reader.h"
#include "ddpm/io/input_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace ddpm {
namespace {

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    require_regular_file(path);
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() {
    if (file_) gzclose(file_);
  }

  // Reads up to n bytes and returns how many came; a short count means end of data.
  uint64_t read(uint8_t* out, uint64_t n) {
    uint64_t got = 0;
    while (got < n) {
      const unsigned want = static_cast<unsigned>(std::min<uint64_t>(n - got, 1u << 30));
      const int r = gzread(file_, out + got, want);
      check_stream();
      if (r <= 0) break;
      got += static_cast<uint64_t>(r);
    }
    return got;
  }

  bool is_raw() const { return gzdirect(file_) == 1; }

  // gzclose is where zlib finally reports a stream cut off before its trailer.
  void close() {
    const int r = gzclose(file_);
    file_ = nullptr;
    if (r != Z_OK)
      throw std::runtime_error(fmt::format("{}: truncated or corrupt gzip stream (zlib error {})", path_, r));
  }

 private:
  void check_stream() {
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum == Z_OK || errnum == Z_STREAM_END) return;
    throw std::runtime_error(fmt::format("{}: truncated or corrupt gzip stream: {}", path_, msg));
  }

  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reads a whole unsigned-byte IDX file whose magic (type and rank) must be expected_magic; uint8 [dims...].
torch::Tensor read_idx(const std::string& path, uint32_t expected_magic, const char* what) {
  GzReader in(path);
  uint8_t head[4];
  if (in.read(head, 4) != 4) throw std::runtime_error(fmt::format("{}: too short for an IDX header", path));
  const uint32_t magic = big_endian_u32(head);
  if (magic != expected_magic)
    throw std::runtime_error(fmt::format("{}: bad magic number 0x{:08x}, expected 0x{:08x} (IDX {})", path,
                                         magic, expected_magic, what));
  const int ndims = head[3];
  std::vector<int64_t> dims(ndims);
  uint64_t payload = 1;
  for (int i = 0; i < ndims; ++i) {
    uint8_t b[4];
    if (in.read(b, 4) != 4) throw std::runtime_error(fmt::format("{}: truncated IDX header", path));
    const uint32_t d = big_endian_u32(b);
    if (d == 0 || d > 0x7fffffffu)
      throw std::runtime_error(fmt::format("{}: IDX dimension {} is {}, expected 1..2^31-1", path, i, d));
    dims[i] = d;
    if (__builtin_mul_overflow(payload, uint64_t{d}, &payload) || payload > kMaxIdxPayloadBytes)
      throw std::runtime_error(fmt::format("{}: IDX dimensions overflow the {} GiB limit", path,
                                           kMaxIdxPayloadBytes >> 30));
  }
  const uint64_t header = 4 + 4 * static_cast<uint64_t>(ndims);
  if (in.is_raw()) {
    // Uncompressed: the file size is known, so the header is checked before allocating anything.
    const uint64_t size = std::filesystem::file_size(path);
    if (size != header + payload)
      throw std::runtime_error(fmt::format("{}: header declares {} bytes of data but the file holds {}", path,
                                           payload, size < header ? 0 : size - header));
  }
  // Compressed: grow the buffer only as data actually arrives, so a forged count cannot allocate TiB.
  std::vector<uint8_t> buf;
  uint64_t got = 0;
  while (got < payload) {
    buf.resize(std::min<uint64_t>(payload, std::max<uint64_t>(2 * buf.size(), uint64_t{1} << 20)));
    const uint64_t want = buf.size() - got;
    const uint64_t r = in.read(buf.data() + got, want);
    got += r;
    if (r < want) break;
  }
  if (got != payload)
    throw std::runtime_error(fmt::format("{}: truncated: header declares {} bytes of data, the stream holds {}",
                                         path, payload, got));
  uint8_t extra;
  if (in.read(&extra, 1) != 0)
    throw std::runtime_error(fmt::format("{}: data continues past the {} bytes the header declares", path,
                                         payload));
  in.close();
  auto out = torch::empty(dims, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), buf.data(), payload);
  return out;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  auto t = read_idx(path, 0x00000803, "images: unsigned bytes, 3 dimensions");
  return t.unsqueeze(1);
}

torch::Tensor read_idx_labels(const std::string& path) {
  return read_idx(path, 0x00000801, "labels: unsigned bytes, 1 dimension").to(torch::kInt64);
}

}  // namespace ddpm
