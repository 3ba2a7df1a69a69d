#include "kernels/cuda/gemm.h"

#include <string>

#include "engine/error.h"

namespace headmap::cuda {
namespace {

void check_blas(cublasStatus_t status, const char* what) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    std::string message = "cuBLAS error in ";
    message += what;
    message += ": ";
    message += cublasGetStatusString(status);
    throw Error(message);
}

}  // namespace

Blas::Blas() {
    check_blas(cublasCreate(&handle_), "cublasCreate");
}

Blas::~Blas() {
    if (handle_) cublasDestroy(handle_);
}

void Blas::linear(cudaStream_t stream, float* out, const float* in, const float* weight, int S,
                  int K, int N, WeightLayout layout, bool accumulate, GemmMath math) {
    check_blas(cublasSetStream(handle_, stream), "cublasSetStream");
    check_blas(cublasSetMathMode(handle_, math == GemmMath::Exact ? CUBLAS_PEDANTIC_MATH
                                                                  : CUBLAS_TF32_TENSOR_OP_MATH),
               "cublasSetMathMode");
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    // cuBLAS is column-major: a row-major (R, C) buffer is its (C, R) matrix. So out^T (N, S) =
    // W^T (N, K) · in^T (K, S): W (K, N) row-major is already (N, K) column-major (no transpose);
    // W (N, K) row-major is (K, N) column-major and needs op T.
    const bool transpose = layout == WeightLayout::OutIn;
    const cublasComputeType_t compute =
        math == GemmMath::Exact ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F_FAST_TF32;
    check_blas(cublasGemmEx(handle_, transpose ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, N, S, K,
                            &alpha, weight, CUDA_R_32F, transpose ? K : N, in, CUDA_R_32F, K, &beta,
                            out, CUDA_R_32F, N, compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace headmap::cuda
