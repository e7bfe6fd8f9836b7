#include "ddpm/models/memory_budget.h"

#include <unistd.h>

#include <stdexcept>

#include <fmt/format.h>

#include "ddpm/models/model_size.h"

namespace ddpm {
namespace {

double gib(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

int64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

void check_batch_fits(const ModelConfig& model, int64_t batch, bool training, const c10::Device& device,
                      const std::string& remedy) {
  const int64_t available = physical_memory_bytes();
  if (!device.is_cpu() || available == 0) return;
  // Training keeps weights, gradients, Adam's two moments and the EMA copy: five float32 copies.
  const double weights = 4.0 * static_cast<double>(planned_parameter_count(model)) * (training ? 5 : 1);
  const double per_sample = static_cast<double>(activation_bytes_per_sample(model, training));
  const double need = weights + per_sample * static_cast<double>(batch);
  if (need <= static_cast<double>(available)) return;
  throw std::runtime_error(fmt::format(
      "{} needs about {:.1f} GiB (batch {} x {:.3f} GiB of activations, plus {:.2f} GiB of weights{}), more than "
      "the {:.1f} GiB of memory here; {}",
      training ? "training" : "sampling", gib(need), batch, gib(per_sample), gib(weights),
      training ? ", gradients and optimizer state" : "", gib(static_cast<double>(available)), remedy));
}

}  // namespace ddpm
