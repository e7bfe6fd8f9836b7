// The output rule of every command (io/output_path.h): never over a file read, however it is spelled;
// never over an existing file unless allowed; a path that cannot be written is refused before any work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ddpm/io/output_path.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace ddpm;

namespace {

// The message of the std::invalid_argument that `check` throws ("" if it throws none).
template <typename Check>
std::string refusal(Check check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(OutputPath, NeverWritesOverAFileRead) {
  test::TempDir dir;
  const auto model = dir.file("m.safetensors");
  std::ofstream(model) << "weights";
  fs::create_symlink(model, dir.file("link.safetensors"));
  fs::create_hard_link(model, dir.file("hard.safetensors"));
  fs::create_directories(dir.file("sub"));
  // Even where replacing is allowed, and however the same file is named.
  for (const auto& out : {model, dir.file("link.safetensors"), dir.file("hard.safetensors"), dir.file("sub/../m.safetensors")}) {
    const auto message = refusal([&] { check_output_files({{out, {".safetensors"}}}, {{model}, true}); });
    EXPECT_TRUE(contains(message, "is the input '" + model + "'")) << out << ": " << message;
  }
  // Two outputs of one command that are one file.
  EXPECT_TRUE(contains(refusal([&] {
                         check_output_files({{dir.file("a.png"), {".png"}}, {dir.file("sub/../a.png"), {".png"}}}, {});
                       }),
                       "given for two outputs"));
}

TEST(OutputPath, ReplacesAnExistingFileOnlyWhenAllowed) {
  test::TempDir dir;
  const auto out = dir.file("grid.png");
  EXPECT_NO_THROW(check_output_files({{out, {".png"}}}, {}));
  std::ofstream(out) << "precious";
  try {
    check_output_files({{out, {".png"}}}, {});
    ADD_FAILURE() << "an existing file was going to be replaced";
  } catch (const OutputExists& e) {
    EXPECT_EQ(e.problem(), "'" + out + "' already exists");
    EXPECT_EQ(e.remedy(), Remedy::replace_output);
  }
  EXPECT_NO_THROW(check_output_files({{out, {".png"}}}, {{}, true}));
}

// What would fail only after minutes of sampling fails first, naming the path.
TEST(OutputPath, UnwritablePathsAreRefusedBeforeTheWork) {
  test::TempDir dir;
  fs::create_directories(dir.file("folder"));
  std::ofstream(dir.file("file")) << "x";
  EXPECT_TRUE(contains(refusal([&] { check_output_files({{dir.file("missing/a.png"), {".png"}}}, {}); }),
                       "folder '" + dir.file("missing") + "': No such file or directory"));
  EXPECT_TRUE(contains(refusal([&] { check_output_files({{dir.file("file/a.png"), {".png"}}}, {}); }), "is not a folder"));
  EXPECT_TRUE(contains(refusal([&] { check_output_files({{dir.file("folder"), {}}}, {{}, true}); }), "is a folder"));
  EXPECT_TRUE(contains(refusal([&] { check_output_files({{"/dev/null", {}}}, {{}, true}); }), "not a regular file"));
  EXPECT_TRUE(contains(refusal([&] { check_output_files({{dir.file("a.bmp"), {".png", ".csv"}}}, {}); }),
                       "expected a name ending in .png or .csv"));
  EXPECT_NO_THROW(check_output_files({{dir.file("A.PNG"), {".png"}}}, {}));
}

TEST(OutputPath, FoldersMustBeNewOrEmptyUnlessAllowed) {
  test::TempDir dir;
  EXPECT_NO_THROW(check_output_folder(dir.file("new/deeper"), {}));  // created later, parents too
  fs::create_directories(dir.file("empty"));
  EXPECT_NO_THROW(check_output_folder(dir.file("empty"), {}));
  fs::create_directories(dir.file("full"));
  std::ofstream(dir.file("full/report.json")) << "{}";
  EXPECT_THROW(check_output_folder(dir.file("full"), {}), OutputExists);
  EXPECT_NO_THROW(check_output_folder(dir.file("full"), {{}, true}));
  // Never a folder that holds what the command reads, nor a file where a folder should be.
  EXPECT_TRUE(contains(refusal([&] { check_output_folder(dir.file("full"), {{dir.file("full/report.json")}, true}); }),
                       "holds the input"));
  EXPECT_TRUE(contains(refusal([&] { check_output_folder(dir.file("full/report.json"), {{}, true}); }), "is not a folder"));
}
