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

  private:
    cublasHandle_t handle_ = nullptr;
};

}  // namespace headmap::cuda
