// What one step of Algorithm 1 reports: for the progress line, RUN/metrics.jsonl and tests.
#pragma once

#include <array>
#include <cstdint>

namespace ddpm {

struct StepStats {
  int64_t step = 0;                // the step just taken (1-based count of steps)
  double loss = 0.0;               // L_simple of the batch
  std::array<double, 4> loss_by_quarter{};  // mean loss of examples with t in each quarter of 1..T (NaN if none)
  double grad_norm = 0.0;          // before clipping
  double lr = 0.0;
  double ema_decay = 0.0;
  bool skipped = false;            // non-finite loss or gradient: weights and EMA untouched
  bool stop = false;               // SIGINT or SIGTERM arrived (on any rank of a group) before the step's end
  int64_t batch = 0;               // examples in the step over all ranks
};

}  // namespace ddpm
