// Orchestrates the Gaussian-mixture experiment and formats its report. Each part draws from its own
// generator (seed + part number), so changing one part's settings leaves the others' numbers unchanged.
#include "ddpm/experiments/gmm_experiment.h"

#include <chrono>

#include "ddpm/core/random.h"
#include "ddpm/evaluation/point_distances.h"
#include "ddpm/io/json_number.h"
#include "ddpm/io/progress_line.h"

namespace ddpm {
namespace {

nlohmann::json quality_json(const SampleQuality& q) {
  const auto num = finite_or_null;  // a diverged chain is null
  nlohmann::json weights = nlohmann::json::array();
  for (double w : q.weights) weights.push_back(num(w));
  return {{"weights", weights},
          {"distance", num(q.distance)},
          {"between_modes_fraction", num(q.between_modes_fraction)},
          {"mean_log_likelihood", num(q.mean_log_likelihood)}};
}

std::string weights_text(const std::vector<double>& w) {
  std::string s;
  for (double v : w) s += fmt::format("{}{:.3f}", s.empty() ? "" : " ", v);
  return s;
}

}  // namespace

std::vector<ScheduleConfig> GmmExperimentConfig::default_initialization_schedules() {
  std::vector<ScheduleConfig> out;
  for (const auto& [kind, T] : std::vector<std::pair<std::string, int64_t>>{
           {"linear", 50}, {"linear", 100}, {"linear", 200}, {"linear", 1000}, {"cosine", 50}, {"cosine", 1000}}) {
    ScheduleConfig c;
    c.kind = kind;
    c.timesteps = T;
    out.push_back(c);
  }
  return out;
}

GmmReport run_gmm_experiment(const GmmExperimentConfig& config, const std::optional<NoisePredictor>& learned) {
  const auto start = std::chrono::steady_clock::now();
  const auto mixture = load_mixture(config.mixture);
  const auto schedule = make_schedule(config.schedule);
  const auto oracle = mixture_noise_predictor(mixture, schedule);
  const int64_t n = config.samples, d = mixture.dim();
  TORCH_CHECK(n >= 2, "samples must be >= 2, got ", n);

  GmmReport r;
  r.mixture = config.mixture;
  r.samples = n;
  r.timesteps = schedule.T;
  r.true_weights = mixture.weights;
  auto gen_truth = make_generator(config.seed);
  r.reference = sample_points(mixture, n, gen_truth);
  TORCH_CHECK(config.noise_floor_pairs >= 2, "noise_floor_pairs must be >= 2");
  // The progress line counts measurements: one per sample set drawn and compared with the reference.
  const auto count = [](const auto& v) { return static_cast<int64_t>(v.size()); };
  ProgressLine progress("mixture experiment: measurements",
                        config.noise_floor_pairs + 1 + (learned ? 2 : 0) + count(config.initialization_schedules) +
                            count(config.discretization_steps) + count(config.langevin_epsilons));
  int64_t measured = 0;
  const auto measured_one = [&](const char* part) { progress.update(++measured, part); };
  auto floors = torch::empty({config.noise_floor_pairs}, torch::kFloat64);
  for (int64_t i = 0; i < config.noise_floor_pairs; ++i) {
    auto q = evaluate_samples(mixture, sample_points(mixture, n, gen_truth), r.reference, config.projections, gen_truth);
    if (i == 0) r.truth = q;
    floors[i] = q.distance;
    measured_one("noise floor");
  }
  r.noise_floor = floors.mean().item<double>();
  r.noise_floor_sd = floors.std().item<double>();

  // Part 5: the oracle (and the learned model) from N(0, I) with all T steps.
  auto gen5 = make_generator(config.seed + 5);
  r.oracle_samples = ancestral_points(schedule, oracle, n, d, gen5);
  r.oracle = evaluate_samples(mixture, r.oracle_samples, r.reference, config.projections, gen5);
  measured_one("Part 5: exact denoiser");
  if (learned) {
    r.learned_samples = ancestral_points(schedule, *learned, n, d, gen5);
    r.learned = evaluate_samples(mixture, r.learned_samples, r.reference, config.projections, gen5);
    measured_one("Part 5: learned denoiser");
    auto gen72 = make_generator(config.seed + 72);
    r.training_error = training_error_by_band(mixture, schedule, *learned, config.training_error_bands,
                                              config.training_error_samples, gen72);
    measured_one("Part 7: training error");
  }

  // Part 7: initialization and discretization, with the oracle.
  auto gen71 = make_generator(config.seed + 71);
  for (const auto& c : config.initialization_schedules) {
    r.initialization.push_back(initialization_error(mixture, c, r.reference, config.projections, gen71));
    measured_one("Part 7: initialization");
  }
  auto gen73 = make_generator(config.seed + 73);
  for (int64_t K : config.discretization_steps) {
    r.discretization.push_back(
        discretization_error(mixture, schedule, oracle, K, config.spacing, r.reference, config.projections, gen73));
    measured_one("Part 7: discretization");
  }

  // Part 2: annealed Langevin against the ancestral chain, both with the oracle's score.
  auto gen2 = make_generator(config.seed + 2);
  r.langevin_ancestral = r.oracle;
  for (double eps : config.langevin_epsilons) {
    r.langevin.push_back(langevin_run(mixture, schedule, oracle, eps, config.langevin_levels,
                                      config.langevin_steps_per_level, r.reference, config.projections, gen2));
    measured_one("Part 2: Langevin");
  }
  progress.finish();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

nlohmann::json to_json(const GmmReport& r) {
  nlohmann::json j;
  j["mixture"] = r.mixture;
  j["samples"] = r.samples;
  j["timesteps"] = r.timesteps;
  j["distance_metric"] = "sliced Wasserstein-2 to an independent true sample of the same size";
  j["true_weights"] = r.true_weights;
  j["truth"] = quality_json(r.truth);
  j["noise_floor"] = r.noise_floor;
  j["noise_floor_sd"] = r.noise_floor_sd;
  j["oracle"] = quality_json(r.oracle);
  j["learned"] = r.learned ? quality_json(*r.learned) : nlohmann::json(nullptr);
  j["discretization"] = nlohmann::json::array();
  for (const auto& row : r.discretization)
    j["discretization"].push_back({{"steps", row.steps}, {"distance", row.distance}, {"ddim_distance", row.ddim_distance}});
  j["initialization"] = nlohmann::json::array();
  for (const auto& row : r.initialization)
    j["initialization"].push_back({{"schedule", row.schedule}, {"T", row.T}, {"alpha_bar_T", row.alpha_bar_T},
                                   {"kl", row.kl}, {"kl_se", row.kl_se}, {"kl_method", row.kl_method},
                                   {"distance_from_normal", row.distance_from_normal},
                                   {"distance_from_exact", row.distance_from_exact}});
  if (r.training_error) {
    j["training_error"] = nlohmann::json::array();
    for (const auto& row : *r.training_error)
      j["training_error"].push_back({{"t_from", row.t_from}, {"t_to", row.t_to}, {"error", row.error}, {"se", row.se}});
  } else {
    j["training_error"] = nullptr;
  }
  j["langevin"]["ancestral"] = quality_json(r.langevin_ancestral);
  j["langevin"]["rows"] = nlohmann::json::array();
  for (const auto& row : r.langevin) {
    auto q = quality_json(row.quality);
    q["epsilon"] = row.epsilon;
    q["levels"] = row.levels;
    q["steps_per_level"] = row.steps_per_level;
    q["evaluations"] = row.levels * row.steps_per_level;
    j["langevin"]["rows"].push_back(q);
  }
  j["seconds"] = r.seconds;
  return j;
}

std::string format_report(const GmmReport& r) {
  std::string s = fmt::format("mixture {}: {} samples per set; distance = sliced W2 to a true sample\n", r.mixture, r.samples);
  s += fmt::format("\nPart 5: samples against the truth (noise floor {:.4f} +- {:.4f})\n", r.noise_floor, r.noise_floor_sd);
  s += fmt::format("{:<10} {:>10} {:>14} {:>12}  {}\n", "source", "distance", "between-modes", "mean log q", "weights");
  auto line = [&](const std::string& name, const SampleQuality& q) {
    s += fmt::format("{:<10} {:>10.4f} {:>14.4f} {:>12.4f}  {}\n", name, q.distance, q.between_modes_fraction,
                     q.mean_log_likelihood, weights_text(q.weights));
  };
  s += fmt::format("{:<10} {:>10} {:>14} {:>12}  {}\n", "target", "", "", "", weights_text(r.true_weights));
  line("truth", r.truth);
  line("oracle", r.oracle);
  if (r.learned) line("learned", *r.learned);
  s += fmt::format("\nPart 7.1: initialization, KL(q(x_T) || N(0,I)) ({}) and the oracle's distance from each start\n",
                   r.initialization.empty() ? "" : r.initialization.front().kl_method);
  s += fmt::format("{:<8} {:>6} {:>11} {:>11} {:>9} {:>11} {:>11}\n", "schedule", "T", "alpha_bar_T", "KL (nats)",
                   "KL se", "from N(0,I)", "from q(x_T)");
  for (const auto& row : r.initialization)
    s += fmt::format("{:<8} {:>6} {:>11.3e} {:>11.3e} {:>9} {:>11.4f} {:>11.4f}\n", row.schedule, row.T,
                     row.alpha_bar_T, row.kl, row.kl_method == "quadrature" ? "-" : fmt::format("{:.1e}", row.kl_se),
                     row.distance_from_normal, row.distance_from_exact);
  if (r.training_error) {
    s += "\nPart 7.2: training error E|eps_theta - eps*|^2 by t band\n";
    for (const auto& row : *r.training_error)
      s += fmt::format("t in [{:>4}, {:>4})  {:.5f} +- {:.5f}\n", row.t_from + 1, row.t_to + 1, row.error, row.se);
  } else {
    s += "\nPart 7.2: training error: needs a learned model\n";
  }
  s += fmt::format("\nPart 7.3: discretization, the oracle on K steps (noise floor {:.4f} +- {:.4f})\n", r.noise_floor,
                   r.noise_floor_sd);
  s += fmt::format("{:>6} {:>12} {:>12}\n", "K", "ancestral", "DDIM eta=0");
  for (const auto& row : r.discretization)
    s += fmt::format("{:>6} {:>12.4f} {:>12.4f}\n", row.steps, row.distance, row.ddim_distance);
  s += "\nPart 2: annealed Langevin vs ancestral, oracle score, equal network evaluations\n";
  s += fmt::format("{:<22} {:>6} {:>10} {:>14}  {}\n", "sampler", "evals", "distance", "between-modes", "weights");
  s += fmt::format("{:<22} {:>6} {:>10.4f} {:>14.4f}  {}\n", "ancestral", r.timesteps,
                   r.langevin_ancestral.distance, r.langevin_ancestral.between_modes_fraction,
                   weights_text(r.langevin_ancestral.weights));
  for (const auto& row : r.langevin)
    s += fmt::format("{:<22} {:>6} {:>10.4f} {:>14.4f}  {}\n", fmt::format("langevin eps={:.0e}", row.epsilon),
                     row.levels * row.steps_per_level, row.quality.distance, row.quality.between_modes_fraction,
                     weights_text(row.quality.weights));
  s += fmt::format("\n({:.1f} s)\n", r.seconds);
  return s;
}

}  // namespace ddpm
