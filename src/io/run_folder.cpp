// The run-folder layout and its atomic, complete-or-absent checkpoint folders.
#include "io/run_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"

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

}  // namespace

std::string run_config_path(const std::string& run_dir) { return (fs::path(run_dir) / "config.json").string(); }

std::string metrics_path(const std::string& run_dir) { return (fs::path(run_dir) / "metrics.jsonl").string(); }

std::string sample_grid_path(const std::string& run_dir, int64_t step) {
  return (fs::path(run_dir) / "samples" / (checkpoint_name(step) + ".png")).string();
}

std::string checkpoints_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

std::string checkpoint_name(int64_t step) { return fmt::format("step-{:08d}", step); }

std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data) {
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
  for (const auto& entry : fs::directory_iterator(root)) {
    const auto name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && fs::exists(entry.path() / kMarker))
      found.push_back(entry.path().string());
  }
  std::sort(found.begin(), found.end());  // zero-padded step numbers sort chronologically
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
