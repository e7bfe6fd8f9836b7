// The learning rate of each optimiser step: a linear warm-up (Ho et al. 2020, Appendix B: 5000 steps), then
// constant, cosine or linear decay (the shapes of diffusers' get_*_schedule_with_warmup). A function of the
// step and of values fixed when the run starts, so that extending a run with --resume changes only where
// training stops, never the rate of a step already planned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

struct LrSchedule {
  std::string kind = "constant";  // constant | cosine | linear (after the warm-up)
  double lr = 2e-4;               // the peak rate
  int64_t warmup = 0;             // steps of linear warm-up (0: none)
  int64_t decay_end = 0;          // the step where cosine and linear decay reach zero
};

std::vector<std::string> lr_schedule_kinds();

// The rate of 1-based step `step`: lr·step/warmup during the warm-up (step 1 trains at lr/warmup, step
// `warmup` at lr), then lr times the decay factor of the progress p = (step - 1 - warmup)/(decay_end - warmup)
// (1 at the first step after the warm-up, > 0 at decay_end): 1, (1 + cos πp)/2 or 1 - p; zero after decay_end.
double lr_at(const LrSchedule& schedule, int64_t step);

}  // namespace ddpm
