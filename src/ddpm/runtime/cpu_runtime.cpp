// CPU runtime settings (see cpu_runtime.h). OpenBLAS is reached through dlsym: LibTorch links the generic
// libblas.so.3, which Debian's alternatives may point at OpenBLAS or at another BLAS.
#include "ddpm/runtime/cpu_runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace ddpm {
namespace {

template <typename F>
F* openblas_symbol(const char* name) {
  return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
}

int cpu_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace

int blas_threads() {
  auto* get = openblas_symbol<int()>("openblas_get_num_threads");
  return get ? get() : 0;
}

void set_blas_threads(int threads) {
  if (auto* set = openblas_symbol<void(int)>("openblas_set_num_threads")) set(threads);
}

int max_cpu_threads() { return 4 * cpu_cores(); }

void configure_cpu_runtime(int threads) {
  if (threads < 0 || threads > max_cpu_threads())
    throw std::invalid_argument(
        fmt::format("threads must be from 0 (every core) to {} (4 per core), got {}", max_cpu_threads(), threads));
  const int team = threads > 0 ? threads : cpu_cores();
  torch::set_num_threads(team);
#ifdef _OPENMP
  // ddpm's own parallel loops (at::parallel_for, inline) run on the OpenMP runtime ddpm was linked with. With
  // Debian's LibTorch that is LibTorch's own and the call above set it; a PyTorch wheel's LibTorch carries a
  // renamed copy, which leaves ddpm's at its default of every core unless told as well.
  omp_set_num_threads(team);
#endif
  set_blas_threads(1);
  constexpr int kOneGiB = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kOneGiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
}

}  // namespace ddpm
