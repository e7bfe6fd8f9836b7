// The run-folder layout and its atomic, complete-or-absent checkpoint folders.
#include "ddpm/io/run_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <zlib.h>

#include "ddpm/io/atomic_file.h"
#include "ddpm/io/remedy.h"

namespace fs = std::filesystem;

namespace ddpm {
namespace {

constexpr const char* kMarker = "COMPLETE";

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open folder '{}': {}", dir.string(), std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot sync folder '{}': {}", dir.string(), std::strerror(errno)));
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read '{}'", path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The step each file of checkpoint `dir` records must be `step`, the one its folder name says.
void check_steps_agree(const fs::path& dir, int64_t step, const CheckpointData& data) {
  const auto require = [&](const std::string& file, const std::optional<int64_t>& found, const std::string& text) {
    if (found != step)
      throw std::runtime_error(fmt::format("checkpoint '{}': {} says step {}, but the folder is step {}",
                                           dir.string(), file, text.empty() ? "(nothing)" : text, step));
  };
  const std::pair<const char*, const SafetensorsContent*> files[] = {
      {"model.safetensors", &data.model}, {"ema.safetensors", &data.ema}, {"optimizer.safetensors", &data.optimizer}};
  for (const auto& [file, content] : files) {
    const auto it = content->metadata.find(kStepKey);
    const std::string text = it == content->metadata.end() ? "" : it->second;
    require(fmt::format("{} (metadata {})", file, kStepKey), parse_step(text), text);
  }
  const auto json_step = data.state.is_object() && data.state.contains("step") && data.state["step"].is_number_integer()
                             ? std::optional<int64_t>(data.state["step"].get<int64_t>())
                             : std::nullopt;
  require("state.json", json_step, data.state.is_object() && data.state.contains("step") ? data.state["step"].dump() : "");
  std::string marker = read_text(dir / kMarker);
  while (!marker.empty() && marker.back() == '\n') marker.pop_back();
  require(kMarker, parse_step(marker), marker);
}

}  // namespace

std::optional<int64_t> parse_step(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(text);  // at most 18 digits: never overflows
}

std::optional<int64_t> checkpoint_step(const std::string& folder_name) {
  if (folder_name.rfind("step-", 0) != 0) return std::nullopt;
  const auto step = parse_step(folder_name.substr(5));
  if (!step || checkpoint_name(*step) != folder_name) return std::nullopt;
  return step;
}

std::string config_digest(const std::string& text) {
  // CRC-32 detects any edit a person makes by hand; it is not meant to resist a forger.
  const auto crc = ::crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  return fmt::format("crc32:{:08x}", crc);
}

void check_run_config(const std::string& run_dir, const std::string& digest) {
  const fs::path path = run_config_path(run_dir);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw std::runtime_error(fmt::format("'{}' is missing: a run folder keeps the configuration it was started with "
                                         "there (restore the file)",
                                         path.string()));
  const auto found = config_digest(read_text(path));
  if (found != digest)
    throw ActionableError(fmt::format("'{}' was changed after the run started (digest {}, the checkpoints' is {}): a "
                                      "run cannot change its configuration on resume",
                                      path.string(), found, digest),
                          Remedy::restore_config_or_branch);
}

std::string run_config_path(const std::string& run_dir) { return (fs::path(run_dir) / "config.json").string(); }

std::string metrics_path(const std::string& run_dir) { return (fs::path(run_dir) / "metrics.jsonl").string(); }

std::string sample_grid_path(const std::string& run_dir, int64_t step) {
  return (fs::path(run_dir) / "samples" / (checkpoint_name(step) + ".png")).string();
}

std::string checkpoints_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

std::string checkpoint_name(int64_t step) { return fmt::format("step-{:08d}", step); }

std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data) {
  if (step < 0) throw std::invalid_argument(fmt::format("checkpoint step must be >= 0, got {}", step));
  const fs::path root = checkpoints_dir(run_dir);
  fs::create_directories(root);
  const fs::path final_dir = root / checkpoint_name(step);
  const fs::path partial = root / ("." + checkpoint_name(step) + ".partial");
  std::error_code ec;
  fs::remove_all(partial, ec);
  try {
    fs::create_directory(partial);
    // write_file_atomically fsyncs each file; the marker goes last so that a folder without it never counts.
    write_file_atomically((partial / "model.safetensors").string(), encode_safetensors(data.model));
    write_file_atomically((partial / "ema.safetensors").string(), encode_safetensors(data.ema));
    write_file_atomically((partial / "optimizer.safetensors").string(), encode_safetensors(data.optimizer));
    write_file_atomically((partial / "state.json").string(), data.state.dump(2) + "\n");
    write_file_atomically((partial / kMarker).string(), fmt::format("{}\n", step));
    fsync_dir(partial);
    if (fs::exists(final_dir)) fs::remove_all(final_dir);  // a same-step checkpoint being redone
    fs::rename(partial, final_dir);
    fsync_dir(root);
  } catch (const std::exception& e) {
    fs::remove_all(partial, ec);
    throw std::runtime_error(fmt::format("could not write checkpoint {} (previous checkpoints kept): {}",
                                         final_dir.string(), e.what()));
  }
  return final_dir.string();
}

std::vector<std::string> complete_checkpoints(const std::string& run_dir) {
  std::vector<std::string> found;
  const fs::path root = checkpoints_dir(run_dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return found;
  std::vector<std::pair<int64_t, std::string>> steps;
  for (const auto& entry : fs::directory_iterator(root)) {
    const auto step = checkpoint_step(entry.path().filename().string());
    if (step && entry.is_directory(ec) && fs::exists(entry.path() / kMarker, ec)) steps.emplace_back(*step, entry.path().string());
  }
  std::sort(steps.begin(), steps.end());  // by step: names past 8 digits do not sort as text
  for (auto& [step, path] : steps) found.push_back(std::move(path));
  return found;
}

std::optional<std::string> latest_checkpoint(const std::string& run_dir) {
  auto all = complete_checkpoints(run_dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

RunFiles resolve_run(const std::string& run_dir) {
  auto latest = latest_checkpoint(run_dir);
  if (!latest)
    throw std::runtime_error(fmt::format("'{}' holds no complete checkpoint (is it a ddpm run folder?)", run_dir));
  RunFiles files;
  files.checkpoint = *latest;
  files.weights = (fs::path(*latest) / "model.safetensors").string();
  files.ema_weights = (fs::path(*latest) / "ema.safetensors").string();
  const auto name = fs::path(*latest).filename().string();  // step-NNNNNNNN
  files.step = std::stoll(name.substr(5));
  return files;
}

CheckpointData read_checkpoint(const std::string& dir) {
  const fs::path d = dir;
  const auto step = checkpoint_step(d.filename().string());
  if (!step)
    throw std::runtime_error(fmt::format("'{}' is not a checkpoint folder (names are step- and 8 digits)", dir));
  if (!fs::exists(d / kMarker))
    throw std::runtime_error(fmt::format("checkpoint '{}' is incomplete (no {} marker)", dir, kMarker));
  CheckpointData data;
  data.model = read_safetensors((d / "model.safetensors").string());
  data.ema = read_safetensors((d / "ema.safetensors").string());
  data.optimizer = read_safetensors((d / "optimizer.safetensors").string());
  try {
    data.state = nlohmann::json::parse(read_text(d / "state.json"));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("checkpoint '{}': state.json is not valid JSON: {}", dir, e.what()));
  }
  check_steps_agree(d, *step, data);
  return data;
}

void prune_checkpoints(const std::string& run_dir, int64_t keep) {
  auto all = complete_checkpoints(run_dir);
  const int64_t excess = static_cast<int64_t>(all.size()) - std::max<int64_t>(keep, 1);
  const fs::path root = checkpoints_dir(run_dir);
  std::error_code ec;
  // Renamed out of the complete set first (one atomic step), so that a kill during the deletion cannot
  // leave a folder that still has its marker but lost some of its files.
  for (int64_t i = 0; i < excess; ++i) {
    const fs::path doomed = root / ("." + fs::path(all[i]).filename().string() + ".deleted.partial");
    fs::remove_all(doomed, ec);
    fs::rename(all[i], doomed);
    fs::remove_all(doomed, ec);
  }
  for (const auto& entry : fs::directory_iterator(root)) {
    const auto name = entry.path().filename().string();
    if (name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace ddpm
