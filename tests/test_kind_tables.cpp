// The tables of samplers, schedules and model kinds: the CLI's choices and help come from them, and an
// unknown name is refused with the list of known ones.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "ddpm/core/schedule.h"
#include "ddpm/models/model_config.h"
#include "ddpm/samplers/sampler.h"

using namespace ddpm;

namespace {

// Each name once, and each help line opens with its own name ("ddim: ...").
void expect_table(const std::vector<std::string>& names, const std::vector<std::string>& help) {
  ASSERT_EQ(names.size(), help.size());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(help[i].rfind(names[i] + ": ", 0), 0u) << help[i];
}

// The error names the bad value and every known one.
template <typename F>
void expect_refusal(F f, const std::string& bad, const std::vector<std::string>& names) {
  try {
    f();
    ADD_FAILURE() << "accepted " << bad;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(bad), std::string::npos) << what;
    for (const auto& name : names) EXPECT_NE(what.find(name), std::string::npos) << what;
  }
}

}  // namespace

TEST(KindTables, SamplersHaveHelpAndRefuseUnknownNames) {
  expect_table(sampler_kinds(), sampler_help());
  EXPECT_EQ(sampler_kinds(), (std::vector<std::string>{"ancestral", "ddim", "langevin"}));
  SamplerSpec spec;
  spec.kind = "heun";
  expect_refusal([&] { sampler_evaluations(spec, 10); }, "heun", sampler_kinds());
}

TEST(KindTables, SchedulesHaveHelpAndRefuseUnknownNames) {
  expect_table(schedule_kinds(), schedule_help());
  for (const auto& kind : schedule_kinds()) {
    if (kind == "custom") continue;  // needs a file
    ScheduleConfig config;
    config.kind = kind;
    config.timesteps = 20;
    EXPECT_EQ(make_schedule(config).T, 20) << kind;
  }
  ScheduleConfig config;
  config.kind = "exponential";
  expect_refusal([&] { make_schedule(config); }, "exponential", schedule_kinds());
}

TEST(KindTables, ModelKindsDecideShapesAndImages) {
  expect_table(model_kinds(), model_kind_help());
  for (const auto& name : preset_names()) {
    const auto config = model_preset(name);
    const auto shape = sample_shape(config);
    EXPECT_EQ(samples_are_images(config), shape.size() == 3) << name;
    EXPECT_FALSE(describe_model(config).empty());
    // A config fitted to its own shape is unchanged; the other kind's data is refused.
    EXPECT_EQ(nlohmann::json(fit_to_data(config, shape)), nlohmann::json(config)) << name;
    EXPECT_THROW(fit_to_data(config, shape.size() == 3 ? std::vector<int64_t>{2} : std::vector<int64_t>{1, 8, 8}),
                 std::invalid_argument)
        << name;
  }
  ModelConfig config;
  config.arch = "transformer";
  expect_refusal([&] { build_model(config); }, "transformer", model_kinds());
}
