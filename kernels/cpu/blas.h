// The BLAS calls the CPU kernels make (row-major sgemm/dgemm and OpenBLAS's thread count), through
// OpenBLAS opened on first use rather than linked.
//
// Why: linked, OpenBLAS starts its worker threads in a load-time constructor, and those workers
// spin (sched_yield) for ~0.1 s: every process paid ~70 ms of CPU for it, including `headmap
// tokenize`,
// `--help` and views drawn from saved maps, which never multiply a matrix. Opened here, only a
// forward pass (or rollout, or the bench) loads it.
//
// Lookup: libopenblas.so.0, then libopenblas.so, by the dynamic loader's rules (LD_LIBRARY_PATH,
// the system directories). A missing library is a headmap::Error
// (Status::Unsupported) naming what was tried. Thread-safe: the first call loads, the others wait.
#pragma once

namespace headmap::blas {

enum class Transpose { No, Yes };

// C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, all row-major.
void sgemm(Transpose trans_a, Transpose trans_b, int M, int N, int K, float alpha, const float* A,
           int lda, const float* B, int ldb, float beta, float* C, int ldc);
void dgemm(Transpose trans_a, Transpose trans_b, int M, int N, int K, double alpha, const double* A,
           int lda, const double* B, int ldb, double beta, double* C, int ldc);

// OpenBLAS's own thread count (headmap keeps it at 1 and parallelises in its pool).
void set_num_threads(int threads);

// Loads OpenBLAS now (the calls above do it themselves); throws headmap::Error when it cannot.
void load();

}  // namespace headmap::blas
