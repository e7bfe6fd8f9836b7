// Figures for the Gaussian-mixture experiment, described as evaluation/plots.h panels.
#include "ddpm/experiments/gmm_figures.h"

#include "ddpm/core/random.h"
#include "ddpm/evaluation/plots.h"
#include "ddpm/samplers/ancestral.h"
#include "ddpm/samplers/ddim.h"
#include "ddpm/samplers/respacing.h"

namespace ddpm {
namespace {

constexpr int64_t kShown = 3000;  // points per scatter panel: more only blackens the modes

std::vector<double> column(const torch::Tensor& points, int64_t j, int64_t limit = kShown) {
  auto c = points.slice(0, 0, std::min(limit, points.size(0))).select(1, j).to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

PlotSeries scatter(const std::string& label, const torch::Tensor& points, PlotColor color) {
  return {label, column(points, 0), column(points, 1), PlotSeries::Style::Points, color};
}

// A square box holding every mode's 3σ ellipse and N(0, I)'s 3σ disc.
std::array<double, 4> box(const GaussianMixture& m) {
  const double spread = 3.0 * std::sqrt(torch::linalg_eigvalsh(m.covariances, "L").max().item<double>());
  const double half = std::max(3.5, m.means.abs().max().item<double>() + spread);
  return {-half, half, -half, half};
}

// Values of f on an n × n grid over `b`, as GridField (u = f's first output, v = its second if any).
GridField grid(const std::array<double, 4>& b, int64_t n) {
  GridField g;
  for (int64_t i = 0; i < n; ++i) {
    g.xs.push_back(b[0] + (b[1] - b[0]) * i / (n - 1));
    g.ys.push_back(b[2] + (b[3] - b[2]) * i / (n - 1));
  }
  return g;
}

torch::Tensor grid_points(const GridField& g) {
  auto xs = torch::tensor(g.xs, torch::kFloat64), ys = torch::tensor(g.ys, torch::kFloat64);
  auto mesh = torch::meshgrid({xs, ys}, "ij");  // value[i * ny + j] at (xs[i], ys[j])
  return torch::stack({mesh[0].reshape(-1), mesh[1].reshape(-1)}, 1);
}

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::string t_label(int64_t index) { return fmt::format("t = {}", index + 1); }

std::vector<int64_t> shown_steps(int64_t T, std::vector<double> fractions) {
  std::vector<int64_t> out;
  for (double f : fractions) out.push_back(std::clamp<int64_t>(static_cast<int64_t>(f * T) - 1, 0, T - 1));
  return out;
}

Figure forward_figure(const GaussianMixture& m, const Schedule& s, at::Generator& gen) {
  Figure f{{}, 3, 1200, 800};
  const auto b = box(m);
  for (int64_t t : shown_steps(s.T, {0.0, 0.05, 0.1, 0.2, 0.4, 1.0})) {
    const double ab = s.alphas_cumprod[t].item<double>();
    const auto q_t = diffuse(m, ab);
    PlotPanel p{fmt::format("q(x_t), {}  (alpha_bar {:.3f})", t_label(t), ab), "x1", "x2"};
    p.limits = b;
    p.equal_aspect = true;
    auto g = grid(b, 120);
    g.u = to_vector(log_density(q_t, grid_points(g)).clamp_min(-12.0));
    p.shade = g;
    p.series.push_back(scatter("", sample_points(q_t, 1500, gen), PlotColor::Blue));
    f.panels.push_back(p);
  }
  return f;
}

Figure field_figure(const GaussianMixture& m, const Schedule& s) {
  Figure f{{}, 2, 1000, 1000};
  const auto b = box(m);
  const auto model = mixture_noise_predictor(m, s);
  for (int64_t t : shown_steps(s.T, {0.01, 0.1, 0.3, 0.6})) {
    const double ab = s.alphas_cumprod[t].item<double>();
    PlotPanel p{fmt::format("score direction -eps*(x, t), {}", t_label(t)), "x1", "x2"};
    p.limits = b;
    p.equal_aspect = true;
    auto shade = grid(b, 120);
    shade.u = to_vector(log_density(diffuse(m, ab), grid_points(shade)).clamp_min(-12.0));
    p.shade = shade;
    auto arrows = grid(b, 21);
    auto pts = grid_points(arrows);
    auto score_dir = -model(pts, torch::full({pts.size(0)}, t, torch::kLong));
    // Length tanh(|ε*|): directions stay readable where |ε*| is large, weak fields stay short.
    auto norm = score_dir.norm(2, 1, true).clamp_min(1e-12);
    score_dir = score_dir / norm * torch::tanh(norm);
    arrows.u = to_vector(score_dir.select(1, 0));
    arrows.v = to_vector(score_dir.select(1, 1));
    p.arrows = arrows;
    f.panels.push_back(p);
  }
  return f;
}

Figure samples_figure(const GaussianMixture& m, const GmmReport& r) {
  Figure f{{}, r.learned_samples.defined() ? 3 : 2, r.learned_samples.defined() ? 1500 : 1000, 560};
  auto panel = [&](const std::string& title, const torch::Tensor& pts, PlotColor c) {
    PlotPanel p{title, "x1", "x2", {scatter("", pts, c)}};
    p.limits = box(m);
    p.equal_aspect = true;
    return p;
  };
  f.panels.push_back(panel("truth", r.reference, PlotColor::Gray));
  f.panels.push_back(panel(fmt::format("oracle eps*, {} steps (SW2 {:.3f})", r.timesteps, r.oracle.distance),
                           r.oracle_samples, PlotColor::Blue));
  if (r.learned_samples.defined())
    f.panels.push_back(panel(fmt::format("learned (SW2 {:.3f})", r.learned->distance), r.learned_samples, PlotColor::Orange));
  return f;
}

// A few chains from the same x_T: ancestral (stochastic, Algorithm 2) and DDIM η = 0 (the deterministic
// probability-flow path) — both driven by ε*, both ending in the modes.
Figure trajectories_figure(const GaussianMixture& m, const Schedule& s, const GmmReport& r, at::Generator& gen) {
  const int64_t n = 8;
  auto x_T = torch::randn({n, 2}, gen);
  const auto model = mixture_noise_predictor(m, s);
  auto panel = [&](const std::string& title, const std::function<void(const StepCallback&)>& run) {
    std::vector<std::vector<double>> xs(n), ys(n);
    auto record = [&](const torch::Tensor& x) {
      auto c = x.to(torch::kFloat64).contiguous();
      for (int64_t i = 0; i < n; ++i) xs[i].push_back(c[i][0].item<double>()), ys[i].push_back(c[i][1].item<double>());
    };
    record(x_T);
    run([&](int64_t, int64_t, const torch::Tensor& x, const torch::Tensor&) { record(x); });
    PlotPanel p{title, "x1", "x2", {scatter("truth", r.reference, PlotColor::Gray)}};
    p.limits = box(m);
    p.equal_aspect = true;
    const PlotColor colors[] = {PlotColor::Blue, PlotColor::Orange, PlotColor::Green, PlotColor::Purple, PlotColor::Brown};
    PlotSeries starts{"x_T", {}, {}, PlotSeries::Style::Markers, PlotColor::Black};
    PlotSeries ends{"x_0", {}, {}, PlotSeries::Style::Markers, PlotColor::Red};
    for (int64_t i = 0; i < n; ++i) {
      p.series.push_back({"", xs[i], ys[i], PlotSeries::Style::Line, colors[i % 5]});
      starts.x.push_back(xs[i].front()), starts.y.push_back(ys[i].front());
      ends.x.push_back(xs[i].back()), ends.y.push_back(ys[i].back());
    }
    p.series.push_back(starts);
    p.series.push_back(ends);
    return p;
  };
  Figure f{{}, 2, 1300, 680};
  f.panels.push_back(panel(fmt::format("ancestral, {} steps (eps*)", s.T), [&](const StepCallback& cb) {
    ancestral_sample(s, model, x_T, gen, {}, cb);
  }));
  f.panels.push_back(panel("DDIM eta = 0, 100 steps (eps*)", [&](const StepCallback& cb) {
    ddim_sample(s, spaced_timesteps(s.T, std::min<int64_t>(100, s.T), "linspace"), model, x_T, gen, {}, cb);
  }));
  return f;
}

Figure errors_figure(const GmmReport& r) {
  Figure f{{}, 3, 1650, 560};
  PlotSeries anc{"ancestral (respaced)", {}, {}, PlotSeries::Style::LinePoints, PlotColor::Blue};
  PlotSeries ddim{"DDIM eta=0", {}, {}, PlotSeries::Style::LinePoints, PlotColor::Orange};
  for (const auto& row : r.discretization) {
    anc.x.push_back(row.steps), anc.y.push_back(row.distance);
    ddim.x.push_back(row.steps), ddim.y.push_back(row.ddim_distance);
  }
  auto floor_line = [&](double x0, double x1) {
    return PlotSeries{"noise floor", {x0, x1}, {r.noise_floor, r.noise_floor}, PlotSeries::Style::Line, PlotColor::Gray};
  };
  if (!anc.x.empty()) {
    PlotPanel p{"discretization: oracle on K steps", "K (sampling steps)", "sliced W2 to truth", {anc, ddim}};
    p.series.push_back(floor_line(anc.x.front(), anc.x.back()));
    p.log_x = p.log_y = true;
    f.panels.push_back(p);
  }
  PlotPanel init{"initialization: KL(q(x_T) || N(0,I))", "T", "KL (nats)"};
  init.log_x = init.log_y = true;
  PlotPanel cost{"initialization cost: oracle from N(0,I)", "T", "sliced W2 to truth"};
  cost.log_x = cost.log_y = true;
  for (const auto& [kind, color] : {std::pair{"linear", PlotColor::Blue}, std::pair{"cosine", PlotColor::Green}}) {
    PlotSeries kl{kind, {}, {}, PlotSeries::Style::LinePoints, color}, from{std::string(kind) + " from N(0,I)", {}, {}, PlotSeries::Style::LinePoints, color};
    PlotSeries exact{std::string(kind) + " from q(x_T)", {}, {}, PlotSeries::Style::Line, color};
    for (const auto& row : r.initialization)
      if (row.schedule == kind) {
        kl.x.push_back(row.T), kl.y.push_back(std::max(row.kl, 1e-7));
        from.x.push_back(row.T), from.y.push_back(row.distance_from_normal);
        exact.x.push_back(row.T), exact.y.push_back(row.distance_from_exact);
      }
    if (kl.x.empty()) continue;
    init.series.push_back(kl);
    cost.series.push_back(from);
    cost.series.push_back(exact);
  }
  if (!init.series.empty()) {
    f.panels.push_back(init);
    cost.series.push_back(floor_line(cost.series.front().x.front(), cost.series.front().x.back()));
    f.panels.push_back(cost);
  }
  f.columns = static_cast<int>(f.panels.size());
  return f;
}

Figure langevin_figure(const GmmReport& r) {
  PlotSeries lang{"annealed Langevin", {}, {}, PlotSeries::Style::LinePoints, PlotColor::Red};
  std::string diverged;
  for (const auto& row : r.langevin) {
    if (std::isfinite(row.quality.distance)) lang.x.push_back(row.epsilon), lang.y.push_back(row.quality.distance);
    else diverged += fmt::format(" {:.0e}", row.epsilon);
  }
  const double x0 = lang.x.empty() ? 1e-6 : lang.x.front(), x1 = lang.x.empty() ? 1e-3 : lang.x.back();
  PlotPanel p{fmt::format("Langevin vs ancestral at {} evaluations (oracle score){}", r.timesteps,
                          diverged.empty() ? "" : "; diverged at eps =" + diverged),
              "step size epsilon", "sliced W2 to truth", {lang}};
  p.series.push_back({"ancestral", {x0, x1}, {r.langevin_ancestral.distance, r.langevin_ancestral.distance},
                      PlotSeries::Style::Line, PlotColor::Blue});
  p.series.push_back({"noise floor", {x0, x1}, {r.noise_floor, r.noise_floor}, PlotSeries::Style::Line, PlotColor::Gray});
  p.log_x = true;
  p.limits = std::array<double, 4>{std::log10(x0) - 0.1, std::log10(x1) + 0.1, 0.0,
                                   1.5 * std::max({r.noise_floor, r.langevin_ancestral.distance,
                                                   lang.y.empty() ? 0.0 : *std::max_element(lang.y.begin(), lang.y.end())})};
  return {{p}, 1, 900, 600};
}

}  // namespace

std::vector<std::string> write_gmm_figures(const GmmExperimentConfig& config, const GmmReport& report,
                                           const std::string& dir) {
  const auto mixture = load_mixture(config.mixture);
  const auto schedule = make_schedule(config.schedule);
  auto gen = make_generator(config.seed + 100);
  std::vector<std::pair<std::string, Figure>> figures;
  if (mixture.dim() == 2) {
    figures.emplace_back("forward.png", forward_figure(mixture, schedule, gen));
    figures.emplace_back("eps_field.png", field_figure(mixture, schedule));
    figures.emplace_back("samples.png", samples_figure(mixture, report));
    figures.emplace_back("trajectories.png", trajectories_figure(mixture, schedule, report, gen));
  }
  figures.emplace_back("errors.png", errors_figure(report));
  if (!report.langevin.empty()) figures.emplace_back("langevin.png", langevin_figure(report));
  std::vector<std::string> paths;
  for (const auto& [name, figure] : figures) {
    paths.push_back(dir + "/" + name);
    write_png(paths.back(), figure);
  }
  return paths;
}

}  // namespace ddpm
