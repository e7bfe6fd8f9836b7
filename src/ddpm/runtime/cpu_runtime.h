// Process-wide CPU settings that decide how fast LibTorch runs on a small machine (measured in
// docs/PERFORMANCE.md). The CLI applies them once at start-up, before any tensor work.
#pragma once

namespace ddpm {

// LibTorch's intra-op (OpenMP) threads: `threads`, or every core when 0 (Debian's LibTorch starts with one
// thread on a 2-core machine). OpenBLAS's own thread pool: one
// thread, because LibTorch's OpenMP workers and OpenBLAS's pthreads both spin-wait after their work, and
// on two cores each then takes the other's core (oneDNN, which runs the convolutions, uses OpenMP).
// The heap: large blocks stay in the process (no mmap/munmap per activation tensor, so no page faults
// re-zeroing the same memory every step).
// Throws std::invalid_argument for more than max_cpu_threads().
void configure_cpu_runtime(int threads);

// The most intra-op threads accepted: 4 per core. More gain nothing and spin-wait against each other (1000
// threads on 2 cores looked like a hang).
int max_cpu_threads();

// OpenBLAS's thread count, or 0 when the BLAS is not OpenBLAS. `set_blas_threads` is a no-op then.
int blas_threads();
void set_blas_threads(int threads);

}  // namespace ddpm
