// The safetensors reader and writer: round trips of every dtype, the exact byte layout, and one
// hand-built bad file per reader rule, each rejected with an error naming the rule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "ddpm/io/safetensors.h"
#include "temp_dir.h"

using namespace ddpm;

namespace {

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int b = 0; b < 8; ++b) s[b] = static_cast<char>((n >> (8 * b)) & 0xFF);
  return s;
}

// A file from a raw header text and a data buffer, with the true header length.
std::string file(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

// Expects decoding to fail with a std::runtime_error whose message contains `fragment`.
void expect_rejected(const std::string& bytes, const std::string& fragment) {
  try {
    decode_safetensors(bytes, "bad.safetensors");
    ADD_FAILURE() << "accepted a bad file; expected an error containing \"" << fragment << "\"";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find(fragment), std::string::npos) << m;
  }
}

const std::string kF32x2 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  SafetensorsContent in;
  int i = 0;
  for (auto type : {torch::kFloat64, torch::kFloat32, torch::kFloat16, torch::kBFloat16, torch::kInt64, torch::kInt32,
                    torch::kInt16, torch::kInt8, torch::kUInt8, torch::kBool}) {
    auto t = (torch::arange(12, torch::kFloat64) * 7 - 30).reshape({3, 4}).to(type);
    in.tensors.emplace_back("t" + std::to_string(i++), t);
  }
  in.tensors.emplace_back("empty", torch::zeros({0, 5}));
  in.tensors.emplace_back("scalar", torch::tensor(2.5));
  in.metadata = {{"format", "pt"}, {"note", "ünïcödé"}};
  test::TempDir dir;
  write_safetensors(dir.file("x.safetensors"), in);
  const auto out = read_safetensors(dir.file("x.safetensors"));
  ASSERT_EQ(out.tensors.size(), in.tensors.size());
  EXPECT_EQ(out.metadata, in.metadata);
  for (const auto& [name, t] : in.tensors) {
    const std::string& wanted = name;  // clang 14 cannot capture a structured binding
    auto it = std::find_if(out.tensors.begin(), out.tensors.end(), [&](const auto& p) { return p.first == wanted; });
    ASSERT_NE(it, out.tensors.end()) << name;
    EXPECT_EQ(it->second.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(it->second, t)) << name;  // bit-exact
  }
}

TEST(Safetensors, WriterLayoutIsExactAndDeterministic) {
  SafetensorsContent c;
  c.tensors = {{"b", torch::tensor({1.0f})}, {"a", torch::tensor({int16_t{-2}}, torch::kInt16)}};
  const std::string json = R"({"a":{"data_offsets":[0,2],"dtype":"I16","shape":[1]},)"
                           R"("b":{"data_offsets":[2,6],"dtype":"F32","shape":[1]}})";
  std::string header = json + std::string((8 - json.size() % 8) % 8, ' ');
  float one = 1.0f;
  std::string data = std::string("\xFE\xFF", 2) + std::string(reinterpret_cast<const char*>(&one), 4);
  EXPECT_EQ(encode_safetensors(c), file(header, data));
  std::swap(c.tensors[0], c.tensors[1]);
  EXPECT_EQ(encode_safetensors(c), file(header, data));  // input order does not matter
  EXPECT_EQ((encode_safetensors(c).size() - data.size()) % 8, 0u);
}

TEST(Safetensors, WriterRejectsDuplicateAndReservedNames) {
  SafetensorsContent c;
  c.tensors = {{"x", torch::zeros({1})}, {"x", torch::zeros({1})}};
  EXPECT_THROW(encode_safetensors(c), std::invalid_argument);
  c.tensors = {{"__metadata__", torch::zeros({1})}};
  EXPECT_THROW(encode_safetensors(c), std::invalid_argument);
  c.tensors = {{"z", torch::zeros({1}, torch::kComplexFloat)}};
  EXPECT_THROW(encode_safetensors(c), std::invalid_argument);
}

TEST(Safetensors, AcceptsTheReferenceLayout) {
  const auto c = decode_safetensors(file(kF32x2, std::string(8, '\0')), "ok.safetensors");
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(c.tensors[0].second.sizes(), (std::vector<int64_t>{2}));
}

TEST(SafetensorsReader, RejectsTruncatedLength) { expect_rejected(std::string(5, '\0'), "shorter than the 8-byte"); }

TEST(SafetensorsReader, RejectsHeaderLongerThanTheLimit) {
  expect_rejected(le64(100'000'001) + "{}", "exceeds the limit");
}

// The limit is inclusive: a length of exactly 100,000,000 passes it (and then fails as beyond this file).
TEST(SafetensorsReader, HeaderLimitIsExactly100MB) {
  expect_rejected(le64(kMaxSafetensorsHeaderBytes) + "{}", "runs past the end");
}

TEST(SafetensorsReader, RejectsHeaderBeyondTheFile) { expect_rejected(le64(1000) + kF32x2, "runs past the end"); }

TEST(SafetensorsReader, RejectsBadJson) { expect_rejected(file(R"({"a": {"dtype": )", ""), "not valid JSON"); }

// Regression (fuzz/fuzz_safetensors): a number beyond double's range made the JSON parser throw
// out_of_range, which escaped as a bare JSON exception without the file's name.
TEST(SafetensorsReader, RejectsNumberOverflowInJson) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[922337203685477E818,4],"data_offsets":[1,0]}})", ""),
                  "not valid JSON");
}

TEST(SafetensorsReader, RejectsNonObjectHeader) { expect_rejected(file("[1, 2]", ""), "must be an object"); }

TEST(SafetensorsReader, RejectsInvalidUtf8) {
  expect_rejected(file("{\"\xC3\x28\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", ""), "UTF-8");
}

TEST(SafetensorsReader, RejectsDuplicateNames) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       std::string(8, '\0')),
                  "\"a\" twice");
}

// Duplicates are refused at every level, not only among tensor names (nlohmann would keep the last).
TEST(SafetensorsReader, RejectsDuplicateKeysInsideEntriesAndMetadata) {
  expect_rejected(file(R"({"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                  "\"dtype\" twice");
  expect_rejected(file(R"({"__metadata__":{"k":"a","k":"b"}})", ""), "\"k\" twice");
}

TEST(SafetensorsReader, RejectsUnknownDtype) {
  expect_rejected(file(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", "xx"), "unknown dtype \"F8\"");
}

TEST(SafetensorsReader, RejectsShapeByteMismatch) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
                  "needs 12 bytes");
}

TEST(SafetensorsReader, RejectsShapeProductOverflow) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", ""),
                  "overflows");
}

TEST(SafetensorsReader, RejectsNegativeShape) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", ""), "non-negative");
}

TEST(SafetensorsReader, RejectsOutOfBoundsRange) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
                  "run past the data buffer");
}

TEST(SafetensorsReader, RejectsOverlappingRanges) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                       std::string(12, '\0')),
                  "overlaps");
}

TEST(SafetensorsReader, RejectsGapBetweenRanges) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                       std::string(12, '\0')),
                  "gap");
}

TEST(SafetensorsReader, RejectsTrailingBytes) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(8, '\0')),
                  "4 trailing bytes");
}

TEST(SafetensorsReader, RejectsNonStringMetadata) {
  expect_rejected(file(R"({"__metadata__":{"k":1}})", ""), "not a string");
  expect_rejected(file(R"({"__metadata__":[]})", ""), "__metadata__ must be an object");
}

TEST(SafetensorsReader, RejectsMalformedEntries) {
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":1}})", ""), "unknown field");
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[0]}})", ""), "data_offsets must be");
  expect_rejected(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", std::string(4, '\0')),
                  "end before they begin");
}

TEST(SafetensorsReader, EveryTruncationAndCorruptionIsAnErrorNotACrash) {
  SafetensorsContent c;
  c.tensors = {{"w", torch::arange(6, torch::kFloat32)}, {"b", torch::ones({2}, torch::kInt64)}};
  c.metadata = {{"k", "v"}};
  const std::string good = encode_safetensors(c);
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_THROW(decode_safetensors(good.substr(0, n), "cut"), std::runtime_error) << "prefix " << n;
  // Flipping any one byte of the length or header either still decodes or throws std::runtime_error;
  // any other exception (a JSON type error, a c10::Error) or a crash fails the test.
  const size_t header_end = good.size() - (6 * 4 + 2 * 8);
  for (size_t pos = 0; pos < header_end; ++pos) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5A);
    try {
      decode_safetensors(bad, "flip");
    } catch (const std::runtime_error&) {
    }
  }
}
