// Every command the documents show runs (docs/commands.txt says how, on tiny settings and stand-in data),
// and every documented command has a row there: a documented command that stops working fails CI.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "data_test_files.h"
#include "ddpm/io/image_io.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSource = DDPM_SOURCE_DIR;

struct Row {
  std::string doc, run, skip;
};

struct Scenario {
  std::string name;
  std::vector<Row> rows;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A command as the documents write it, in the table's form: "build/ddpm" is ddpm, no trailing comment or
// "&", single spaces.
std::string normalise(std::string command) {
  const auto comment = command.find(" #");
  if (comment != std::string::npos) command = command.substr(0, comment);
  command = trim(command);
  if (!command.empty() && command.back() == '&') command = trim(command.substr(0, command.size() - 1));
  command = std::regex_replace(command, std::regex("build/ddpm"), "ddpm");
  return std::regex_replace(command, std::regex(" +"), " ");
}

// Lines it cannot read go to `errors` (the table is also read before main, to name the tests).
std::vector<Scenario> read_table(std::vector<std::string>* errors = nullptr) {
  std::ifstream in(kSource / "docs" / "commands.txt");
  if (!in && errors) errors->push_back("cannot open docs/commands.txt");
  std::vector<Scenario> scenarios;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      scenarios.push_back({line.substr(1, line.size() - 2), {}});
    } else if (!scenarios.empty() && line.rfind("doc:", 0) == 0) {
      scenarios.back().rows.push_back({normalise(line.substr(4)), "", ""});
    } else if (!scenarios.empty() && !scenarios.back().rows.empty() && line.rfind("run:", 0) == 0) {
      scenarios.back().rows.back().run = trim(line.substr(4));
    } else if (!scenarios.empty() && !scenarios.back().rows.empty() && line.rfind("skip:", 0) == 0) {
      scenarios.back().rows.back().skip = trim(line.substr(5));
    } else if (errors) {
      errors->push_back("docs/commands.txt: cannot read '" + line + "'");
    }
  }
  return scenarios;
}

// The commands of README.md, docs/*.md and models/README.md: ``` block lines that call ddpm, and inline
// `ddpm ...` spans.
std::set<std::string> documented_commands() {
  std::vector<fs::path> files = {kSource / "README.md", kSource / "models" / "README.md"};
  for (const auto& entry : fs::directory_iterator(kSource / "docs"))
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  std::set<std::string> commands;
  const std::regex inline_span("`((build/)?ddpm( [^`]*)?)`");
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    bool fenced = false;
    while (std::getline(in, line)) {
      if (trim(line).rfind("```", 0) == 0) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        const auto command = normalise(line);
        if (std::regex_search(command, std::regex("(^| )ddpm "))) commands.insert(command);
      }
      for (std::sregex_iterator it(line.begin(), line.end(), inline_span), end; it != end; ++it)
        commands.insert(normalise((*it)[1].str()));
    }
  }
  return commands;
}

TEST(DocumentedCommands, EveryDocumentedCommandHasARowAndEveryRowADocument) {
  std::set<std::string> rows;
  std::vector<std::string> errors;
  const auto table = read_table(&errors);
  for (const auto& error : errors) ADD_FAILURE() << error;
  for (const auto& scenario : table)
    for (const auto& row : scenario.rows) {
      EXPECT_TRUE(rows.insert(row.doc).second) << "docs/commands.txt: '" << row.doc << "' twice";
      EXPECT_FALSE(!row.run.empty() && !row.skip.empty()) << "docs/commands.txt: '" << row.doc << "' has both run: and skip:";
    }
  const auto documented = documented_commands();
  EXPECT_GT(documented.size(), 20u);  // the collector works
  for (const auto& command : documented)
    EXPECT_TRUE(rows.count(command)) << "'" << command << "' is documented but has no row in docs/commands.txt";
  for (const auto& row : rows)
    EXPECT_TRUE(documented.count(row)) << "docs/commands.txt: '" << row << "' is no longer in the documents";
}

// CIFAR-10's reader takes only full batch files (10,000 records of a label byte and 3 x 32 x 32 pixels),
// so the stand-in is full size (184 MB), written only for the scenarios that read it.
void write_cifar10_stand_in(const fs::path& dir) {
  std::string record(3073, '\0');
  for (int p = 0; p < 3072; ++p) record[1 + p] = static_cast<char>((p * 7) % 256);
  for (const char* name : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}) {
    std::string bytes;
    bytes.reserve(10000 * record.size());
    for (int r = 0; r < 10000; ++r) {
      record[0] = static_cast<char>(r % 10);
      bytes += record;
    }
    std::ofstream(dir / (std::string(name) + ".bin"), std::ios::binary) << bytes;
  }
}

// The stand-ins for the data the documents assume (see docs/commands.txt).
void write_stand_ins(const fs::path& dir, bool cifar10) {
  for (const char* sub : {"build", ".bin", "models", "runs", "path/to/images", "path/to/cifar-10-batches-bin"})
    fs::create_directories(dir / sub);
  fs::create_symlink(DDPM_CLI_PATH, dir / "build" / "ddpm");
  fs::create_symlink(DDPM_CLI_PATH, dir / ".bin" / "ddpm");
  fs::create_directory_symlink(kSource / "docs", dir / "docs");  // the documents' own data (docs/study/), read only
  torch::manual_seed(0);
  ddpm::write_png((dir / "path/to/images/a.png").string(), torch::randint(0, 256, {3, 40, 36}, torch::kUInt8));
  ddpm::write_png((dir / "path/to/images/b.png").string(), torch::randint(0, 256, {1, 48, 48}, torch::kUInt8));
  ddpm::write_jpeg((dir / "path/to/images/c.jpg").string(), torch::randint(0, 256, {3, 36, 44}, torch::kUInt8));
  std::ofstream csv(dir / "my.csv");
  for (int i = 0; i < 256; ++i) csv << (i % 2 ? 2.0 : -2.0) + 0.01 * (i % 17) << "," << 0.02 * (i % 13) << "\n";
  auto images = ddpm_test::idx_header(0x00000803, {64, 28, 28});
  auto labels = ddpm_test::idx_header(0x00000801, {64});
  for (int n = 0; n < 64; ++n) {
    labels.push_back(static_cast<uint8_t>(n % 4));
    for (int p = 0; p < 28 * 28; ++p) images.push_back(static_cast<uint8_t>((n % 4) * 60 + p % 7));
  }
  ddpm_test::write_raw((dir / "labelled.idx").string(), images);
  ddpm_test::write_raw((dir / "labels.idx").string(), labels);
  if (cifar10) write_cifar10_stand_in(dir / "path/to/cifar-10-batches-bin");
}

class DocumentedScenario : public testing::TestWithParam<Scenario> {};

TEST_P(DocumentedScenario, Runs) {
  const auto& scenario = GetParam();
  const fs::path dir = ddpm_test::scratch_dir(scenario.name);
  bool cifar10 = false;
  for (const auto& row : scenario.rows) cifar10 |= row.skip.empty() && row.doc.find("cifar10:") != std::string::npos;
  write_stand_ins(dir, cifar10);
  for (const auto& row : scenario.rows) {
    if (!row.skip.empty()) continue;
    const std::string command = row.run.empty() ? row.doc : row.run;
    std::ofstream(dir / ".row.sh") << command << "\n";
    const auto r = run_shell("cd '" + dir.string() + "' && PATH='" + (dir / ".bin").string() + "':\"$PATH\" sh .row.sh 2>&1");
    EXPECT_EQ(r.status, 0) << "documented: " << row.doc << "\nran: " << command << "\n" << r.out;
  }
  if (!HasFailure()) fs::remove_all(dir);  // kept for a look when a row failed
}

std::string scenario_name(const testing::TestParamInfo<Scenario>& info) {
  return std::regex_replace(info.param.name, std::regex("[^A-Za-z0-9]"), "_");
}

INSTANTIATE_TEST_SUITE_P(Docs, DocumentedScenario, testing::ValuesIn(read_table()), scenario_name);

}  // namespace
