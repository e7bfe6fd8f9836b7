// Operator times from LibTorch's legacy profiler (see op_profile.h). Each thread's events are push/pop
// pairs in order; a stack gives every operator its total time and, minus its children's, its self time.
#include "ddpm/benchmark/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <map>

namespace ddpm {

namespace prof = torch::autograd::profiler;

std::vector<OpTime> profile_ops(const std::function<void()>& work, double calls_per_work) {
  prof::thread_event_lists events;
  {
    prof::TLSLegacyProfilerGuard guard(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU),
        [&events](const prof::thread_event_lists& lists) { events = lists; });
    work();
  }
  struct Open {
    const prof::LegacyEvent* push;
    double children_us;
  };
  std::map<std::string, OpTime> by_name;
  for (const auto& thread : events) {
    std::vector<Open> stack;
    for (const auto& e : thread) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange) {
        // Pops normally close the innermost range; search down in case one was left open.
        auto it = std::find_if(stack.rbegin(), stack.rend(), [&](const Open& o) { return o.push->handle() == e.handle(); });
        if (it == stack.rend()) continue;
        const Open open = *it;
        stack.erase(std::next(it).base(), stack.end());
        const double elapsed = open.push->cpuElapsedUs(e);
        if (!stack.empty()) stack.back().children_us += elapsed;
        auto& op = by_name[open.push->name()];
        op.name = open.push->name();
        op.calls += 1;
        op.self_ms += (elapsed - open.children_us) / 1000.0;
        op.total_ms += elapsed / 1000.0;
      }
    }
  }
  std::vector<OpTime> ops;
  for (auto& [name, op] : by_name) {
    op.self_ms /= calls_per_work;
    op.total_ms /= calls_per_work;
    op.calls /= calls_per_work;
    ops.push_back(op);
  }
  std::sort(ops.begin(), ops.end(), [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
  return ops;
}

}  // namespace ddpm
