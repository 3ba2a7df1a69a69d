// Elementwise and per-row kernels: embedding sum, layernorm, the projection epilogue (bias, GELU)
// and the residual add. fp32 throughout, in the CPU kernels' formulation (kernels/cpu/ops.cpp).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap::cuda {
namespace {

constexpr int kThreads = 256;
// Grid-stride kernels need no more blocks than fill the GPU a few times over.
constexpr int64_t kMaxBlocks = 4096;

unsigned grid_for(int64_t n) {
    return unsigned(std::min(kMaxBlocks, (n + kThreads - 1) / kThreads));
}

// x (S, C). Float sums in HF's order: (word + type) + position, as cpu::embed.
__global__ void embed_kernel(float* __restrict__ x, const float* __restrict__ token,
                             const float* __restrict__ position,
                             const float* __restrict__ token_type, const int32_t* __restrict__ ids,
                             const int32_t* __restrict__ positions,
                             const int32_t* __restrict__ type_ids, int S, int C) {
    const int64_t n = int64_t(S) * C;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t s = i / C, c = i - s * C;
        const float word = token[int64_t(ids[s]) * C + c];
        const float pos = position[int64_t(positions[s]) * C + c];
        if (token_type) {
            const int64_t type = type_ids ? type_ids[s] : 0;
            x[i] = (word + token_type[type * C + c]) + pos;
        } else {
            x[i] = word + pos;
        }
    }
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// One warp per row (kThreads / 32 rows per block). mean, then the mean of squared deviations
// (two passes, as reference::layernorm), then the affine map. Every read of the row precedes
// the first write and each lane writes only entries it read itself, so out may equal in.
__global__ void layernorm_kernel(float* out, const float* in, const float* __restrict__ weight,
                                 const float* __restrict__ bias, int S, int C, float eps) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
    for (int64_t s = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; s < S;
         s += warps) {  // warp-uniform, so all lanes reach the shuffles
        const float* x = in + s * C;
        float* y = out + s * C;
        float sum = 0.0f;
        for (int c = lane; c < C; c += 32) sum += x[c];
        const float mean = warp_sum(sum) / float(C);
        float var = 0.0f;
        for (int c = lane; c < C; c += 32) {
            const float d = x[c] - mean;
            var = fmaf(d, d, var);
        }
        const float inv = 1.0f / sqrtf(warp_sum(var) / float(C) + eps);
        for (int c = lane; c < C; c += 32) y[c] = (x[c] - mean) * inv * weight[c] + bias[c];
    }
}

// out (S, N): out += bias (when given), then GELU for the GELU epilogues.
template <Epilogue kEpilogue>
__global__ void bias_epilogue_kernel(float* __restrict__ out, const float* __restrict__ bias, int S,
                                     int N) {
    const int64_t n = int64_t(S) * N;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        float v = out[i];
        if (bias) v += bias[i % N];
        if constexpr (kEpilogue == Epilogue::GeluTanh) {
            // 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))), reference::gelu_tanh in float
            v = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        } else if constexpr (kEpilogue == Epilogue::GeluErf) {
            // 0.5x(1 + erf(x/sqrt2)), reference::gelu_erf in float
            v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
        }
        out[i] = v;
    }
}

__global__ void add_kernel(float* __restrict__ x, const float* __restrict__ y, int64_t n) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        x[i] += y[i];
}

}  // namespace

void embed(cudaStream_t stream, float* x, const float* token, const float* position,
           const float* token_type, const int32_t* ids, const int32_t* positions,
           const int32_t* type_ids, int S, int C) {
    const int64_t n = int64_t(S) * C;
    if (n <= 0) return;  // a 0-block grid is a launch error
    embed_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, token, position, token_type, ids,
                                                       positions, type_ids, S, C);
    check_launch("embed_kernel");
}

void layernorm(cudaStream_t stream, float* out, const float* in, const float* weight,
               const float* bias, int S, int C, float eps) {
    if (S <= 0 || C <= 0) return;
    constexpr int kRowsPerBlock = kThreads / 32;
    const unsigned blocks =
        unsigned(std::min<int64_t>(kMaxBlocks, (int64_t(S) + kRowsPerBlock - 1) / kRowsPerBlock));
    layernorm_kernel<<<blocks, kThreads, 0, stream>>>(out, in, weight, bias, S, C, eps);
    check_launch("layernorm_kernel");
}

void bias_epilogue(cudaStream_t stream, float* out, const float* bias, int S, int N,
                   Epilogue epilogue) {
    const int64_t n = int64_t(S) * N;
    if (n <= 0) return;
    const bool gelu = epilogue == Epilogue::GeluTanh || epilogue == Epilogue::GeluErf;
    if (!bias && !gelu) return;  // Store / Accumulate without bias: cuBLAS already wrote out
    const unsigned blocks = grid_for(n);
    switch (epilogue) {
        case Epilogue::Store:
        case Epilogue::Accumulate:
            bias_epilogue_kernel<Epilogue::Store><<<blocks, kThreads, 0, stream>>>(out, bias, S, N);
            break;
        case Epilogue::GeluTanh:
            bias_epilogue_kernel<Epilogue::GeluTanh>
                <<<blocks, kThreads, 0, stream>>>(out, bias, S, N);
            break;
        case Epilogue::GeluErf:
            bias_epilogue_kernel<Epilogue::GeluErf>
                <<<blocks, kThreads, 0, stream>>>(out, bias, S, N);
            break;
    }
    check_launch("bias_epilogue_kernel");
}

void add_inplace(cudaStream_t stream, float* x, const float* y, int64_t n) {
    if (n <= 0) return;
    add_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, y, n);
    check_launch("add_kernel");
}

}  // namespace headmap::cuda
