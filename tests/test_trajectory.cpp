// The trajectory picture covers the whole reverse chain of every sampler: its snapshots are spread over the
// total each sampler reports, which for Langevin is levels × steps per level (more than its noise levels).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "ddpm/core/random.h"
#include "ddpm/core/schedule.h"
#include "ddpm/samplers/sampler.h"
#include "ddpm/samplers/trajectory.h"

using namespace ddpm;

TEST(Trajectory, SnapshotsSpanTheWholeChainOfEverySampler) {
  ScheduleConfig config;
  config.timesteps = 50;
  const auto schedule = make_schedule(config);
  // Any ε-predictor will do: the test is about which steps are recorded, not what they hold.
  const NoisePredictor model = [](const torch::Tensor& x, const torch::Tensor&) { return 0.5 * x; };
  for (const auto& kind : sampler_kinds()) {
    SamplerSpec spec;
    spec.kind = kind;
    spec.steps = 20;
    spec.langevin_steps_per_level = 3;
    const int64_t total = sampler_evaluations(spec, schedule.T);
    TrajectoryRecorder recorder(/*snapshots=*/10, /*samples=*/2);
    std::map<int64_t, torch::Tensor> seen;  // every state the sampler reported, by step
    int64_t reported_total = 0;
    auto gen = make_generator(3);
    auto x_T = torch::randn({4, 2}, gen);
    run_sampler(schedule, model, x_T, gen, spec,
                recorder.callback([&](int64_t step, int64_t n, const torch::Tensor& x, const torch::Tensor&) {
                  seen[step] = x.slice(0, 0, 2).clone();
                  reported_total = n;
                }));
    ASSERT_EQ(reported_total, total) << kind;
    ASSERT_EQ(recorder.columns(), 10) << kind;
    // Column k holds the state after step ⌈k·total/10⌉: the last column is the sampler's final x_0.
    const auto grid = recorder.as_grid_batch();  // per sample: 10 x_t cells, then 10 x̂_0 cells
    for (int64_t k = 1; k <= 10; ++k) {
      const int64_t step = (k * total + 9) / 10;
      for (int64_t s = 0; s < 2; ++s)
        EXPECT_TRUE(torch::equal(grid[s * 20 + (k - 1)], seen.at(step)[s].to(torch::kFloat32)))
            << kind << ": column " << k << " should be step " << step << " of " << total;
    }
  }
}
