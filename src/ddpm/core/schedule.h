// The variance schedule β_1..β_T and every table derived from it (Ho et al. 2020, eq. 2, 4, 7).
// Tables are float64 and indexed by the 0-based step index i = t - 1 (docs/NOTATION.md).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddpm {

// How β_1..β_T is chosen. `custom` reads the β list from a file.
struct ScheduleConfig {
  std::string kind = "linear";  // linear | cosine | quadratic | sigmoid | custom
  int64_t timesteps = 1000;     // T; custom: 0 takes T from the betas, any other value must match their count
  double beta_start = 1e-4;     // β_1 for linear/quadratic/sigmoid (Ho et al.)
  double beta_end = 0.02;       // β_T for linear/quadratic/sigmoid (Ho et al.)
  double cosine_s = 0.008;      // Nichol & Dhariwal's offset
  double max_beta = 0.999;      // cosine clip, keeps ᾱ_T > 0
  std::string betas_file;       // custom: one β per line (or whitespace separated)
  std::vector<double> betas;    // custom: the β list itself (a run records its file's values, so that it
                                // and its model files do not depend on the file staying unchanged)
};

// The schedule kinds (core/schedule_kinds.cpp's table), and one help line for each.
std::vector<std::string> schedule_kinds();
std::vector<std::string> schedule_help();

// JSON round trip (core/schedule_json.cpp); from_json throws naming the field.
void to_json(nlohmann::json& j, const ScheduleConfig& c);
void from_json(const nlohmann::json& j, ScheduleConfig& c);

// The most diffusion steps a schedule may have: 25 times Ho et al.'s T = 1000 (Nichol & Dhariwal use 4000).
// Sampling takes T network evaluations, so a T from a corrupt or hostile file must not reach the tables.
inline constexpr int64_t kMaxTimesteps = 100000;

// All tables have shape [T], dtype float64, on the CPU. Entry i belongs to paper step t = i + 1.
struct Schedule {
  std::string kind;
  int64_t T = 0;
  torch::Tensor betas;                           // β_t
  torch::Tensor alphas;                          // α_t = 1 - β_t
  torch::Tensor alphas_cumprod;                  // ᾱ_t = Π_{s≤t} α_s
  torch::Tensor alphas_cumprod_prev;             // ᾱ_{t-1}, with ᾱ_0 = 1
  torch::Tensor sqrt_alphas_cumprod;             // √ᾱ_t
  torch::Tensor sqrt_one_minus_alphas_cumprod;   // √(1 - ᾱ_t)
  torch::Tensor sqrt_recip_alphas;               // 1/√α_t               (eq. 11)
  torch::Tensor sqrt_recip_alphas_cumprod;       // 1/√ᾱ_t               (eq. 15)
  torch::Tensor sqrt_recipm1_alphas_cumprod;     // √(1/ᾱ_t - 1)         (eq. 15)
  torch::Tensor posterior_variance;              // β̃_t                  (eq. 7)
  torch::Tensor posterior_log_variance_clipped;  // log β̃_t, with β̃_1 := β̃_2 (β̃_1 = 0)
  torch::Tensor posterior_mean_coef1;            // coefficient of x_0    (eq. 7)
  torch::Tensor posterior_mean_coef2;            // coefficient of x_t    (eq. 7)
  torch::Tensor snr;                             // ᾱ_t / (1 - ᾱ_t)

  // Derives every table from β_1..β_T (float64 [T], each in (0, 1)).
  static Schedule from_betas(torch::Tensor betas, std::string kind = "custom");
};

// Builds a schedule; throws std::invalid_argument on a bad config (message names the field).
Schedule make_schedule(const ScheduleConfig& config);

// β_1..β_T for each named kind (float64 [T]).
torch::Tensor linear_betas(int64_t T, double beta_start, double beta_end);
torch::Tensor quadratic_betas(int64_t T, double beta_start, double beta_end);
torch::Tensor sigmoid_betas(int64_t T, double beta_start, double beta_end);
torch::Tensor cosine_betas(int64_t T, double s, double max_beta);
torch::Tensor read_betas_file(const std::string& path);

// Gathers table[t] for a batch of 0-based indices t (int64 [B]) and shapes it to broadcast
// against a tensor of `like`'s rank: [B, 1, ..., 1], with `like`'s dtype and device.
torch::Tensor extract(const torch::Tensor& table, const torch::Tensor& t, const torch::Tensor& like);

}  // namespace ddpm
