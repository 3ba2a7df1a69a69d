#include "kernels/cuda/gemm.h"

#include <string>

#include "headmap/error.hpp"
#include "kernels/cuda/kernels.h"

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

void Blas::set_stream_and_math(cudaStream_t stream, GemmMath math) {
    check_blas(cublasSetStream(handle_, stream), "cublasSetStream");
    check_blas(cublasSetMathMode(handle_, math == GemmMath::Exact ? CUBLAS_PEDANTIC_MATH
                                                                  : CUBLAS_TF32_TENSOR_OP_MATH),
               "cublasSetMathMode");
}

void Blas::linear(cudaStream_t stream, float* out, const float* in, const float* weight, int S,
                  int K, int N, WeightLayout layout, bool accumulate, GemmMath math) {
    set_stream_and_math(stream, math);
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

void Blas::attention_baseline(cudaStream_t stream, float* ctx, float* maps, const float* qkv,
                              const AttentionShape& shape, GemmMath math) {
    const int S = shape.seq, H = shape.n_head, D = shape.head_dim, C = H * D;
    if (S <= 0 || H <= 0) return;
    set_stream_and_math(stream, math);
    const cublasComputeType_t compute =
        math == GemmMath::Exact ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F_FAST_TF32;
    const float scale = attention_scale(D), one = 1.0f, zero = 0.0f;
    const long long ld = 3LL * C;  // qkv's row stride
    // Head h's Q, K, V (S, D) row-major with stride 3C are cuBLAS's (D, S) matrices Q^T, K^T, V^T.
    // Scores: the row-major map (S, S) is the column-major M^T = K · Q^T = op_T(K^T) · Q^T.
    check_blas(cublasGemmStridedBatchedEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, S, S, D, &scale,
                                          qkv + C, CUDA_R_32F, int(ld), D, qkv, CUDA_R_32F, int(ld),
                                          D, &zero, maps, CUDA_R_32F, S, (long long)S * S, H,
                                          compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmStridedBatchedEx(scores)");
    softmax_rows(stream, maps, H, S, shape.causal);
    // ctx_h (S, D) row-major with stride C is the column-major ctx_h^T = V^T · P^T, and the
    // row-major P (S, S) is the column-major P^T.
    check_blas(
        cublasGemmStridedBatchedEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, D, S, S, &one, qkv + 2 * C,
                                   CUDA_R_32F, int(ld), D, maps, CUDA_R_32F, S, (long long)S * S,
                                   &zero, ctx, CUDA_R_32F, C, D, H, compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx(context)");
}

}  // namespace headmap::cuda
