// The one progress display of every long command (train, sample, eval, gmm, classifier train, demo):
//   WHAT DONE/TOTAL (PCT%)  DETAIL  elapsed 1m40s  eta 4h30m
// on stderr, redrawn in place on a terminal (at most 4 times a second) and as plain lines otherwise (once per
// 10 % crossed, or every 30 s), so logs stay short. The ETA is linear in the work left.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ddpm {

// "1m40s", "4h30m"; "?" for a negative, non-finite or absurd duration.
std::string format_duration(double seconds);

class ProgressLine {
 public:
  // `total` units of work, of which `start` are done already (a resumed run: the ETA counts only the
  // units done here). `header` (what is computed, at what cost) is printed once, just before the first
  // progress line, so input errors found before any work stay a single line. `live`: redraw in place
  // (default: stderr is a terminal).
  ProgressLine(std::string what, int64_t total, int64_t start = 0, std::string header = "");
  ProgressLine(std::string what, int64_t total, int64_t start, std::string header, bool live);

  // `done` units are done; `detail` (e.g. "loss (moving avg.) 0.0312  79.1 img/s") follows the count.
  void update(int64_t done, const std::string& detail = "");
  // A message on its own line; the live line is redrawn after it by the next update.
  void note(const std::string& message);
  // Ends the live line (no-op otherwise); also called by the destructor.
  void finish();
  ~ProgressLine();

  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void print_header();

  std::string what_, header_;
  int64_t total_, start_;
  bool live_, drawn_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point begin_, last_print_;
};

}  // namespace ddpm
