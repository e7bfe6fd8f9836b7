// The strict safetensors reader. Rules, each with its own error: header length within 100 MB and within
// the file; header valid UTF-8 JSON, an object, no duplicate keys at any level; entries {dtype, shape,
// data_offsets} with known dtypes; shape product (overflow-checked) × dtype size = byte range; ranges
// inside the buffer, contiguous and non-overlapping, covering it with no trailing bytes; metadata
// string → string. All checks run before tensors are allocated, so a bad file cannot cause a huge one.
#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <tuple>

#include "ddpm/io/atomic_file.h"
#include "ddpm/io/safetensors.h"
#include "ddpm/io/safetensors_dtypes.h"

namespace ddpm {

using nlohmann::json;

namespace {

struct Entry {
  std::string name;
  detail::SafetensorsDtype dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw std::runtime_error(fmt::format("{}: invalid safetensors file: {}", source_, message));
  }

  // nlohmann keeps the last of duplicate keys silently; a parser callback sees every key first.
  json parse_header(const std::string& text) const {
    if (!detail::is_valid_utf8(text)) fail("the JSON header is not valid UTF-8");
    std::vector<std::set<std::string>> open_objects;
    auto on_event = [&](int, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::object_start) open_objects.emplace_back();
      if (event == json::parse_event_t::object_end) open_objects.pop_back();
      if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second)
        fail(fmt::format("the JSON header has the key \"{}\" twice", parsed.get<std::string>()));
      return true;
    };
    json header;
    try {
      header = json::parse(text, on_event);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1E818 (fuzz_safetensors)
      fail(fmt::format("the header is not valid JSON ({})", e.what()));
    }
    if (!header.is_object()) fail("the JSON header must be an object");
    return header;
  }

  uint64_t offset(const json& v, const std::string& name) const {
    if (!v.is_number_unsigned()) fail(fmt::format("tensor \"{}\": data_offsets must be non-negative integers", name));
    return v.get<uint64_t>();
  }

  Entry entry(const std::string& name, const json& e) const {
    if (!e.is_object()) fail(fmt::format("tensor \"{}\": the entry must be an object", name));
    for (const auto& [key, value] : e.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets")
        fail(fmt::format("tensor \"{}\": unknown field \"{}\"", name, key));
    if (!e.contains("dtype") || !e["dtype"].is_string()) fail(fmt::format("tensor \"{}\": missing string dtype", name));
    const auto dtype = detail::dtype_by_name(e["dtype"].get<std::string>());
    if (!dtype)
      fail(fmt::format("tensor \"{}\": unknown dtype \"{}\" (known: {})", name, e["dtype"].get<std::string>(),
                       detail::known_dtype_names()));
    if (!e.contains("shape") || !e["shape"].is_array()) fail(fmt::format("tensor \"{}\": missing shape array", name));
    Entry out{name, *dtype, {}, 0, 0};
    uint64_t bytes = dtype->bytes;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) fail(fmt::format("tensor \"{}\": shape entries must be non-negative integers", name));
      const auto n = d.get<uint64_t>();
      if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(bytes, n, &bytes))
        fail(fmt::format("tensor \"{}\": the byte size of shape {} overflows 64 bits", name, e["shape"].dump()));
      out.shape.push_back(static_cast<int64_t>(n));
    }
    const json* offsets = e.contains("data_offsets") ? &e["data_offsets"] : nullptr;
    if (!offsets || !offsets->is_array() || offsets->size() != 2)
      fail(fmt::format("tensor \"{}\": data_offsets must be [begin, end]", name));
    out.begin = offset((*offsets)[0], name);
    out.end = offset((*offsets)[1], name);
    if (out.end < out.begin) fail(fmt::format("tensor \"{}\": data_offsets [{}, {}] end before they begin", name, out.begin, out.end));
    if (out.end - out.begin != bytes)
      fail(fmt::format("tensor \"{}\": {} shape {} needs {} bytes but data_offsets [{}, {}] hold {}", name, dtype->name,
                       e["shape"].dump(), bytes, out.begin, out.end, out.end - out.begin));
    return out;
  }

  std::map<std::string, std::string> metadata(const json& m) const {
    if (!m.is_object()) fail("__metadata__ must be an object of strings");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : m.items()) {
      if (!value.is_string()) fail(fmt::format("__metadata__ value of \"{}\" is not a string: {}", key, value.dump()));
      out[key] = value.get<std::string>();
    }
    return out;
  }

  // Sorted by position, each range must start where the previous one ended and the last end the buffer.
  void check_layout(std::vector<Entry>& entries, uint64_t buffer_size) const {
    for (const auto& e : entries)
      if (e.end > buffer_size)
        fail(fmt::format("tensor \"{}\": data_offsets [{}, {}] run past the data buffer ({} bytes)", e.name, e.begin,
                         e.end, buffer_size));
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    uint64_t expected = 0;
    const std::string* previous = nullptr;
    for (const auto& e : entries) {
      if (e.begin < expected)
        fail(fmt::format("tensor \"{}\" overlaps tensor \"{}\" (starts at byte {}, before {})", e.name, *previous,
                         e.begin, expected));
      if (e.begin > expected)
        fail(fmt::format("tensor \"{}\" starts at byte {} but the previous data ends at {}: the buffer has a gap",
                         e.name, e.begin, expected));
      expected = e.end;
      previous = &e.name;
    }
    if (expected != buffer_size)
      fail(fmt::format("the data buffer has {} trailing bytes after the last tensor", buffer_size - expected));
  }

 private:
  std::string source_;
};

}  // namespace

SafetensorsContent decode_safetensors(const std::string& bytes, const std::string& source_name) {
  const Reader r(source_name);
  if (bytes.size() < 8)
    r.fail(fmt::format("{} bytes, shorter than the 8-byte header length (truncated file?)", bytes.size()));
  uint64_t n = 0;
  for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(bytes[b]);
  if (n > kMaxSafetensorsHeaderBytes)
    r.fail(fmt::format("header length {} exceeds the limit of {} bytes", n, kMaxSafetensorsHeaderBytes));
  if (n > bytes.size() - 8)
    r.fail(fmt::format("header length {} runs past the end of the file ({} bytes; truncated file?)", n, bytes.size()));

  const json header = r.parse_header(bytes.substr(8, n));
  SafetensorsContent content;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") content.metadata = r.metadata(value);
    else entries.push_back(r.entry(name, value));
  }
  const uint64_t buffer_offset = 8 + n;
  r.check_layout(entries, bytes.size() - buffer_offset);

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::dtype(e.dtype.type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), bytes.data() + buffer_offset + e.begin, e.end - e.begin);
    content.tensors.emplace_back(e.name, std::move(t));
  }
  return content;
}

SafetensorsContent read_safetensors(const std::string& path) { return decode_safetensors(read_file_bytes(path), path); }

}  // namespace ddpm
