// RePaint's loop: the reverse step is Algorithm 2's, the known part and the jumps are the forward process's.
#include "ddpm/editing/inpaint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <stdexcept>

#include "ddpm/core/forward_process.h"
#include "ddpm/core/reverse_process.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {
namespace {

void check_jumps(int64_t jump_length, int64_t jump_n_sample) {
  if (jump_length < 1) throw std::invalid_argument(fmt::format("inpaint: the jump length must be >= 1, got {}", jump_length));
  if (jump_n_sample < 1)
    throw std::invalid_argument(fmt::format("inpaint: the resampling count must be >= 1, got {}", jump_n_sample));
}

}  // namespace

// The most network evaluations per result accepted: a schedule of more is a mistyped option, not a plan.
constexpr int64_t kMaxEvaluations = 10'000'000;

std::vector<int64_t> repaint_levels(int64_t K, int64_t jump_length, int64_t jump_n_sample) {
  check_jumps(jump_length, jump_n_sample);
  if (K < 1) throw std::invalid_argument("inpaint: the chain needs at least one step");
  // Down K levels, plus jump_length more for each repeat at each jump point: counted before the list is built.
  const int64_t jump_points = std::max<int64_t>(0, (K - 1) / jump_length);
  const double down = static_cast<double>(K) + static_cast<double>(jump_n_sample - 1) * jump_length * jump_points;
  if (down > kMaxEvaluations)
    throw std::invalid_argument(fmt::format("inpaint: {} steps with jumps of {} run {} times are {:.3g} network evaluations "
                                            "per result, more than {}", K, jump_length, jump_n_sample, down, kMaxEvaluations));
  std::map<int64_t, int64_t> jumps_left;
  for (int64_t level = 0; level < K - jump_length; level += jump_length) jumps_left[level] = jump_n_sample - 1;
  std::vector<int64_t> levels = {K - 1};
  for (int64_t level = K - 1; level >= 0;) {
    levels.push_back(--level);
    auto jump = jumps_left.find(level);
    if (level >= 0 && jump != jumps_left.end() && jump->second > 0) {
      --jump->second;
      for (int64_t up = 0; up < jump_length; ++up) levels.push_back(++level);
    }
  }
  return levels;
}

int64_t repaint_evaluations(int64_t K, int64_t jump_length, int64_t jump_n_sample) {
  const auto levels = repaint_levels(K, jump_length, jump_n_sample);
  int64_t down = 0;
  for (std::size_t i = 1; i < levels.size(); ++i) down += levels[i] < levels[i - 1];
  return down;
}

torch::Tensor inpaint(const Schedule& schedule, const NoisePredictor& model, const torch::Tensor& known,
                      const torch::Tensor& keep, torch::Tensor x, at::Generator& gen, const InpaintOptions& options,
                      const StepCallback& on_step) {
  const auto& spec = options.sampler;
  if (spec.kind != "ancestral")
    throw std::invalid_argument(fmt::format("inpaint runs RePaint on the ancestral sampler, not '{}'", spec.kind));
  TORCH_CHECK(x.sizes() == known.sizes(), "inpaint: x_T shape ", x.sizes(), " != the input's ", known.sizes());
  torch::Tensor mask;
  try {
    mask = keep.to(known.options()).expand_as(known);
  } catch (const c10::Error&) {
    throw std::invalid_argument(fmt::format("inpaint: a mask of shape {} does not fit inputs of shape {}",
                                            fmt::join(keep.sizes(), "x"), fmt::join(known.sizes(), "x")));
  }
  if (!mask.eq(0).logical_or(mask.eq(1)).all().item<bool>())
    throw std::invalid_argument("inpaint: the mask must be 0 (fill) or 1 (keep) everywhere");
  const auto respaced = respace(schedule, sampler_timesteps(spec, schedule.T));
  const auto& s = respaced.schedule;
  ReverseStepOptions step_options;
  step_options.variance = resolved_variance(spec, schedule.T);
  step_options.clip_x0 = spec.clip_x0.value_or(false);
  const auto levels = repaint_levels(s.T, options.jump_length, options.jump_n_sample);
  const int64_t evaluations = repaint_evaluations(s.T, options.jump_length, options.jump_n_sample);
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0);
  auto at_level = [&](int64_t level) { return torch::full({B}, level, torch::TensorOptions().dtype(torch::kLong).device(x.device())); };
  int64_t done = 0;
  for (std::size_t i = 1; i < levels.size(); ++i) {
    const int64_t from = levels[i - 1], to = levels[i];
    auto noise = torch::randn(x.sizes(), gen, x.options());
    if (to > from) {  // a jump back up: one step of the forward chain (Ho et al. eq. 2)
      x = q_step(s, x, at_level(to), noise);
      continue;
    }
    const auto t = at_level(from);
    const auto eps = model(x, at_level(respaced.model_timesteps[from]));
    TORCH_CHECK(eps.sizes() == x.sizes(), "noise prediction shape ", eps.sizes(), " != x_t shape ", x.sizes());
    const auto step = p_mean_variance(s, x, t, eps, step_options);
    const auto unknown = p_sample_from(step, t, noise);
    // The known part at the same level, drawn afresh from q(x_to | x_0) (RePaint eq. 8); x_0 itself at the end.
    const auto known_here = to >= 0 ? q_sample(s, known, at_level(to), torch::randn(x.sizes(), gen, x.options())) : known;
    x = torch::where(mask.to(torch::kBool), known_here, unknown);
    if (on_step) on_step(++done, evaluations, x, step.pred_x0);
  }
  return x;
}

}  // namespace ddpm
