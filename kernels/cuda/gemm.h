// The projections on the GPU: cuBLAS sgemm over row-major buffers. Exact FP32 by default; TF32
// tensor cores when asked (headmap --fast).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "kernels/types.h"

namespace headmap::cuda {

enum class GemmMath {
    Exact,  // FP32 products and sums (CUBLAS_PEDANTIC_MATH: no TF32 even under
            // NVIDIA_TF32_OVERRIDE)
    Tf32,   // inputs rounded to TF32 on tensor cores, FP32 sums
};

class Blas {
  public:
    Blas();
    ~Blas();
    Blas(const Blas&) = delete;
    Blas& operator=(const Blas&) = delete;

    // out (S, N) = in (S, K) · W, or out += in · W when accumulate (the fused residual add).
    // W is (K, N) for InOut (GPT-2's Conv1D), (N, K) for OutIn (nn.Linear). Device pointers.
    void linear(cudaStream_t stream, float* out, const float* in, const float* weight, int S, int K,
                int N, WeightLayout layout, bool accumulate, GemmMath math);

    // The unfused attention a framework runs eagerly, kept as the bench's baseline for the fused
    // kernel: maps (H, S, S) = scale * Q·K^T per head by one strided-batched GEMM, the row
    // softmax (softmax_rows) in place, then ctx (S, C) = P·V by a second batched GEMM. Same
    // inputs and outputs as attention(); the maps are written twice and read twice more.
    void attention_baseline(cudaStream_t stream, float* ctx, float* maps, const float* qkv,
                            const AttentionShape& shape, GemmMath math);

  private:
    void set_stream_and_math(cudaStream_t stream, GemmMath math);

    cublasHandle_t handle_ = nullptr;
};

}  // namespace headmap::cuda
