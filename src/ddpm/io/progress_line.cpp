// The progress line (see progress_line.h).
#include "ddpm/io/progress_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace ddpm {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<int64_t>(seconds);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}m{:02d}s", s / 60, s % 60);
}

ProgressLine::ProgressLine(std::string what, int64_t total, int64_t start, std::string header)
    : ProgressLine(std::move(what), total, start, std::move(header), ::isatty(STDERR_FILENO) == 1) {}

ProgressLine::ProgressLine(std::string what, int64_t total, int64_t start, std::string header, bool live)
    : what_(std::move(what)), header_(std::move(header)), total_(total), start_(start), live_(live) {
  begin_ = last_print_ = std::chrono::steady_clock::now();
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::print_header() {
  if (header_.empty()) return;
  std::fprintf(stderr, "%s\n", header_.c_str());
  header_.clear();
}

void ProgressLine::update(int64_t done, const std::string& detail) {
  using namespace std::chrono;
  print_header();
  const auto now = steady_clock::now();
  const bool last = done >= total_;
  const int pct = total_ > 0 ? static_cast<int>(100 * std::min(done, total_) / total_) : 100;
  const double since_print = duration<double>(now - last_print_).count();
  if (live_) {
    if (!last && drawn_ && since_print < 0.25) return;
  } else if (!last && pct / 10 == last_decile_ && since_print < 30.0) {
    return;
  }
  last_decile_ = pct / 10;
  last_print_ = now;
  const double elapsed = duration<double>(now - begin_).count();
  const double eta = done > start_ ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done - start_)
                                   : std::nan("");
  const std::string line = fmt::format("{} {}/{} ({}%){}{}  elapsed {}  eta {}", what_, done, total_, pct,
                                       detail.empty() ? "" : "  ", detail, format_duration(elapsed),
                                       format_duration(eta));
  std::fprintf(stderr, live_ ? "\r\033[K%s" : "%s\n", line.c_str());
  std::fflush(stderr);
  drawn_ = live_;
}

void ProgressLine::note(const std::string& message) {
  print_header();
  std::fprintf(stderr, drawn_ ? "\r\033[K%s\n" : "%s\n", message.c_str());
  std::fflush(stderr);
  drawn_ = false;
}

void ProgressLine::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace ddpm
