// DDPMScheduler / DDIMScheduler configs ↔ ddpm's schedule, prediction and sampler defaults. diffusers'
// schedules are ddpm's under other names: linear = linear, scaled_linear = quadratic (even in √β),
// squaredcos_cap_v2 = cosine with Nichol & Dhariwal's s = 0.008 and β ≤ 0.999, sigmoid = sigmoid,
// trained_betas = custom.
#include <fmt/ranges.h>

#include "ddpm/interop/diffusers.h"
#include "ddpm/interop/diffusers_config.h"

namespace ddpm {
namespace {

using nlohmann::json;

struct NamePair {
  const char* diffusers;
  const char* ddpm;
};

constexpr NamePair kScheduleNames[] = {
    {"linear", "linear"}, {"scaled_linear", "quadratic"}, {"squaredcos_cap_v2", "cosine"}, {"sigmoid", "sigmoid"}};
constexpr NamePair kVarianceNames[] = {{"fixed_small", "posterior"}, {"fixed_large", "beta"}};
constexpr NamePair kPredictionNames[] = {{"epsilon", "epsilon"}, {"sample", "x0"}, {"v_prediction", "v"}};

// The ddpm name of diffusers' `value` for `key`, or an error listing what ddpm reads.
std::string ddpm_name(const DiffusersConfig& c, const std::string& key, const json& fallback,
                      const NamePair* begin, const NamePair* end) {
  const auto value = c.get<std::string>(key, fallback);
  std::vector<std::string> known;
  for (auto p = begin; p != end; ++p) {
    if (value == p->diffusers) return p->ddpm;
    known.push_back(p->diffusers);
  }
  throw c.error(key, fmt::format("is not supported: ddpm reads {}", fmt::join(known, ", ")));
}

template <size_t N>
std::string ddpm_name(const DiffusersConfig& c, const std::string& key, const json& fallback, const NamePair (&t)[N]) {
  return ddpm_name(c, key, fallback, t, t + N);
}

template <size_t N>
std::string diffusers_name(const std::string& ddpm, const NamePair (&table)[N]) {
  for (const auto& p : table)
    if (ddpm == p.ddpm) return p.diffusers;
  return {};
}

}  // namespace

DiffusersScheduler scheduler_from_diffusers(const json& config, const std::string& file) {
  const DiffusersConfig c(config, file);
  const auto name = c.get<std::string>("_class_name", "DDPMScheduler");
  const bool ddim = name == "DDIMScheduler";
  if (name != "DDPMScheduler" && !ddim)
    throw c.error("_class_name", "is not supported: ddpm reads DDPMScheduler and DDIMScheduler configs");

  DiffusersScheduler s;
  auto& sc = s.schedule;
  sc.timesteps = c.get<int64_t>("num_train_timesteps", 1000);
  if (sc.timesteps < 1 || sc.timesteps > kMaxTimesteps)
    throw c.error("num_train_timesteps", fmt::format("must be from 1 to {}", kMaxTimesteps));
  if (const auto betas = c.value("trained_betas", nullptr); !betas.is_null()) {
    sc.kind = "custom";
    sc.betas = c.get<std::vector<double>>("trained_betas", nullptr);
    if (static_cast<int64_t>(sc.betas.size()) != sc.timesteps)
      throw c.error("trained_betas", fmt::format("must list num_train_timesteps = {} values", sc.timesteps));
  } else {
    sc.kind = ddpm_name(c, "beta_schedule", "linear", kScheduleNames);
    if (sc.kind == "sigmoid" && ddim) throw c.error("beta_schedule", "is not supported by DDIMScheduler");
    sc.beta_start = c.get<double>("beta_start", 1e-4);
    sc.beta_end = c.get<double>("beta_end", 0.02);
  }
  try {
    make_schedule(sc);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", file, e.what()));
  }
  s.prediction = parse_prediction(ddpm_name(c, "prediction_type", "epsilon", kPredictionNames));

  // DDIMScheduler has no variance_type (its σ comes from η): Algorithm 2 on such a model takes DDPMScheduler's
  // default, fixed_small, as DDPMScheduler.from_config would.
  s.sampling.variance = parse_variance_kind(ddpm_name(c, "variance_type", "fixed_small", kVarianceNames));
  s.sampling.clip_x0 = c.get<bool>("clip_sample", true);
  if (*s.sampling.clip_x0 && c.get<double>("clip_sample_range", 1.0) != 1.0)
    throw c.error("clip_sample_range", "is not supported: ddpm clips x_0 to [-1, 1], the data's range");
  const auto spacing = c.get<std::string>("timestep_spacing", "leading");
  if (spacing != "leading" && spacing != "trailing" && spacing != "linspace")
    throw c.error("timestep_spacing", "is not supported: ddpm spaces leading, trailing or linspace");
  s.sampling.spacing = spacing;
  s.sampling.ddim_clipped_eps = false;  // DDIMScheduler.step's default, use_clipped_model_output = False

  if (c.get<int64_t>("steps_offset", 0) != 0)
    throw c.error("steps_offset", "is not supported: ddpm's leading spacing starts at step 0");
  if (ddim && !c.get<bool>("set_alpha_to_one", true))
    throw c.error("set_alpha_to_one", "is not supported: ddpm's last DDIM step goes to alpha_bar = 1 (the data)");
  if (c.get<bool>("rescale_betas_zero_snr", false))
    throw c.error("rescale_betas_zero_snr", "is not supported: ddpm's schedules keep alpha_bar_T > 0");
  if (c.get<bool>("thresholding", false))
    throw c.error("thresholding", "is not supported: ddpm clips x_0 (clip_sample) but does not threshold it");
  return s;
}

json diffusers_scheduler_config(const ScheduleConfig& schedule, Prediction prediction, const SamplingDefaults& sampling) {
  const Schedule tables = make_schedule(schedule);
  SamplerSpec all_steps;  // DDPMPipeline runs every step: the variance ddpm's sampler takes for that
  all_steps.variance = sampling.variance;
  json j = {{"_class_name", "DDPMScheduler"},
            {"_diffusers_version", kDiffusersFormatVersion},
            {"num_train_timesteps", tables.T},
            {"beta_start", schedule.beta_start},
            {"beta_end", schedule.beta_end},
            {"beta_schedule", "linear"},
            {"trained_betas", nullptr},
            {"variance_type", diffusers_name(to_string(resolved_variance(all_steps, tables.T)), kVarianceNames)},
            {"clip_sample", sampling.clip_x0.value_or(true)},
            {"clip_sample_range", 1.0},
            {"prediction_type", diffusers_name(to_string(prediction), kPredictionNames)},
            {"timestep_spacing", sampling.spacing.value_or("leading")},
            {"steps_offset", 0},
            {"thresholding", false},
            {"rescale_betas_zero_snr", false}};
  // A schedule diffusers computes the same way goes by its name; any other as its β list.
  const bool named_cosine = schedule.kind == "cosine" && schedule.cosine_s == 0.008 && schedule.max_beta == 0.999;
  const auto name = diffusers_name(schedule.kind, kScheduleNames);
  if (!name.empty() && (schedule.kind != "cosine" || named_cosine)) {
    j["beta_schedule"] = name;
  } else {
    const auto betas = tables.betas.contiguous();
    j["trained_betas"] = std::vector<double>(betas.data_ptr<double>(), betas.data_ptr<double>() + tables.T);
  }
  return j;
}

}  // namespace ddpm
