// CPU runtime settings (see cpu_runtime.h). OpenBLAS is reached through dlsym: LibTorch links the generic
// libblas.so.3, which Debian's alternatives may point at OpenBLAS or at another BLAS.
#include "runtime/cpu_runtime.h"

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <thread>

namespace ddpm {
namespace {

template <typename F>
F* openblas_symbol(const char* name) {
  return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int blas_threads() {
  auto* get = openblas_symbol<int()>("openblas_get_num_threads");
  return get ? get() : 0;
}

void set_blas_threads(int threads) {
  if (auto* set = openblas_symbol<void(int)>("openblas_set_num_threads")) set(threads);
}

void configure_cpu_runtime(int threads) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads > 0 ? threads : cores);
  set_blas_threads(1);
  constexpr int kOneGiB = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kOneGiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
}

}  // namespace ddpm
