// Where the time goes: LibTorch's profiler (the legacy, CPU-timed one that Debian's 1.13 build has) over a
// piece of work, summed by operator. On CUDA the times are host times (launch and synchronisation).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ddpm {

struct OpTime {
  std::string name;    // aten operator or autograd node, e.g. "aten::mkldnn_convolution"
  double calls = 0;    // per call of the work (see profile_ops)
  double self_ms = 0;   // excluding the operators it called
  double total_ms = 0;  // including them (nested calls of the same name counted once per level)
};

// Runs `work` once under the profiler; returns every operator, largest self time first, with times
// and counts divided by `calls_per_work` (e.g. network evaluations inside `work`) so they read as per call.
std::vector<OpTime> profile_ops(const std::function<void()>& work, double calls_per_work = 1.0);

}  // namespace ddpm
