// The row softmax of the unfused baseline (Blas::attention_baseline): what a framework's eager
// attention does after its score GEMM. It is deliberately plain (one block per row, a pass for the
// max, a pass for the sum, a pass to normalise, in place), so the bench can say what the fused
// kernel saves over cuBLAS + softmax + cuBLAS. Not used by the forward.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap::cuda {
namespace {

constexpr int kThreads = 256;

// Block-wide reduction through shared memory; every thread gets the result.
template <class Op>
__device__ float block_reduce(float v, float* shared, Op op) {
    for (int offset = 16; offset > 0; offset /= 2)
        v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // shared may still be read from the previous reduction
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = shared[0];
    for (int w = 1; w < kThreads / 32; ++w) v = op(v, shared[w]);
    return v;
}

// maps (rows, S), one block per row: row i of each head keeps keys 0..i when causal (the rest
// become 0), all S otherwise.
__global__ void __launch_bounds__(kThreads)
    softmax_rows_kernel(float* __restrict__ maps, int S, bool causal) {
    __shared__ float shared[kThreads / 32];
    const int64_t row_index = blockIdx.x;
    const int i = int(row_index % S);
    float* row = maps + row_index * S;
    const int allowed = causal ? i + 1 : S;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < allowed; j += kThreads) m = fmaxf(m, row[j]);
    m = block_reduce(m, shared, [](float a, float b) { return fmaxf(a, b); });
    float sum = 0.0f;
    for (int j = threadIdx.x; j < allowed; j += kThreads) {
        const float e = expf(row[j] - m);
        row[j] = e;
        sum += e;
    }
    sum = block_reduce(sum, shared, [](float a, float b) { return a + b; });
    for (int j = threadIdx.x; j < S; j += kThreads) row[j] = j < allowed ? row[j] / sum : 0.0f;
}

}  // namespace

void softmax_rows(cudaStream_t stream, float* maps, int H, int S, bool causal) {
    if (H <= 0 || S <= 0) return;
    softmax_rows_kernel<<<unsigned(int64_t(H) * S), kThreads, 0, stream>>>(maps, S, causal);
    check_launch("softmax_rows_kernel");
}

}  // namespace headmap::cuda
