// CPU runtime settings (see cpu_runtime.h). OpenBLAS is reached through dlsym: LibTorch links the generic
// libblas.so.3, which Debian's alternatives may point at OpenBLAS or at another BLAS.
#include "ddpm/runtime/cpu_runtime.h"

#include <dlfcn.h>
#include <malloc.h>

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
  torch::set_num_threads(threads > 0 ? threads : cpu_cores());
  set_blas_threads(1);
  constexpr int kOneGiB = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kOneGiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
}

}  // namespace ddpm
