// Attention on the GPU: the fused kernel (one block = one head x R query rows, whole score rows in
// shared memory, each normalised row written to the maps exactly once) and a plain reference
// kernel (one thread per head and query row) kept for tests.
//
// Both follow reference::attention's formulation: score = (q·k, accumulated in d order) * scale
// with scale = 1/sqrt(D) applied after the dot; p = exp(score - row max) / row sum, over the
// allowed keys only (causal: keys <= the row); ctx = sum over keys of p * v, in key order.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>

#include "headmap/error.hpp"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
// Keys per K/V tile. 64 keys x 4 row groups = 256 threads in the score phase.
constexpr int kKeyTile = 64;
constexpr int kGroups = kThreads / kKeyTile;
// Head sizes up to 256: a lane owns up to 8 ctx columns (d = lane + 32c).
constexpr int kMaxHeadDim = 256;
constexpr int kMaxCols = kMaxHeadDim / 32;
// Dynamic shared memory a launch may use without opting in.
constexpr size_t kDefaultSmem = 48 * 1024;

// Odd row stride of a K/V tile: in the score phase the 32 lanes of a warp read 32 different key
// rows at the same column, which an odd stride spreads over all 32 banks.
__host__ __device__ inline int tile_stride(int D) {
    return D | 1;
}

// Bytes of dynamic shared memory for R rows: scores (R, S) + Q rows (R, D) + one K/V tile
// (kKeyTile, D|1).
size_t smem_bytes(int R, int S, int D) {
    return sizeof(float) *
           (size_t(R) * S + size_t(R) * D + size_t(kKeyTile) * size_t(tile_stride(D)));
}

// cudaDevAttrMaxSharedMemoryPerBlockOptin of the current device, queried once per device.
int optin_smem_bytes() {
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    constexpr int kCachedDevices = 64;
    static std::atomic<int> cache[kCachedDevices];  // zero: not queried yet
    if (device < kCachedDevices) {
        const int cached = cache[device].load(std::memory_order_relaxed);
        if (cached > 0) return cached;
    }
    int bytes = 0;
    check(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
    if (device < kCachedDevices) cache[device].store(bytes, std::memory_order_relaxed);
    return bytes;
}

void check_head_dim(int D) {
    if (D < 1 || D > kMaxHeadDim)
        throw Error("CUDA attention: head_dim D=" + std::to_string(D) + " is outside 1.." +
                    std::to_string(kMaxHeadDim));
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset /= 2)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// tile (len, D) with row stride D|1 <- src (len, D) with row stride ld (a column slice of qkv).
__device__ __forceinline__ void load_tile(float* tile, const float* __restrict__ src, size_t ld,
                                          int len, int D) {
    const int stride = tile_stride(D);
    for (int i = threadIdx.x; i < len * D; i += kThreads) {
        const int j = i / D, d = i - j * D;
        tile[j * stride + d] = src[size_t(j) * ld + d];
    }
}

enum class Store { None, F32, F16 };

// Grid (ceil(S/R), H), kThreads threads, smem_bytes(R, S, D) of dynamic shared memory.
// qkv (S, 3C); ctx (S, C); maps (H, S, S) as float or __half, unused for Store::None.
template <int R, Store kStore>
__global__ void __launch_bounds__(kThreads)
    attention_kernel(float* __restrict__ ctx, void* __restrict__ maps,
                     const float* __restrict__ qkv, int S, int C, int D, bool causal, float scale) {
    extern __shared__ float smem[];
    float* P = smem;               // (R, S) scores, then probabilities
    float* Q = P + size_t(R) * S;  // (R, D)
    float* tile = Q + R * D;       // (kKeyTile, D|1): K tiles, then V tiles
    const int stride = tile_stride(D);
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int h = blockIdx.y;
    // Causal blocks further down have more keys: launch them first so the tail is short.
    const int r0 = (gridDim.x - 1 - blockIdx.x) * R;
    const int rows = min(R, S - r0);
    const int nkeys = causal ? r0 + rows : S;  // keys any row of this block may see
    const size_t ld = 3 * size_t(C);           // qkv row stride

    // Q rows; rows past the end are zero so the score phase may read them unconditionally.
    for (int i = t; i < R * D; i += kThreads) {
        const int r = i / D, d = i - r * D;
        Q[i] = r < rows ? qkv[size_t(r0 + r) * ld + size_t(h) * D + d] : 0.0f;
    }

    // Scores: thread (group, key) computes rows group, group + kGroups, ... against one key of
    // the tile, so each K value read from shared memory serves several rows; the Q reads are
    // warp-wide broadcasts (a warp's 32 threads share one group).
    constexpr int kRowsPerThread = (R + kGroups - 1) / kGroups;
    const int key = t % kKeyTile, group = t / kKeyTile;
    const float* qrow[kRowsPerThread];
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i)
        // With R < kGroups the spare groups recompute a real row's dots (never stored).
        qrow[i] = Q + min(group + kGroups * i, R - 1) * D;
    for (int k0 = 0; k0 < nkeys; k0 += kKeyTile) {
        const int len = min(kKeyTile, nkeys - k0);
        __syncthreads();  // Q is loaded; the previous tile has been consumed
        load_tile(tile, qkv + size_t(k0) * ld + C + size_t(h) * D, ld, len, D);
        __syncthreads();
        if (key < len) {
            float acc[kRowsPerThread];
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) acc[i] = 0.0f;
            const float* k = tile + key * stride;
#pragma unroll 4
            for (int d = 0; d < D; ++d) {
                const float kd = k[d];
#pragma unroll
                for (int i = 0; i < kRowsPerThread; ++i) acc[i] = fmaf(qrow[i][d], kd, acc[i]);
            }
            const int j = k0 + key;
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) {
                const int r = group + kGroups * i;
                // Causal entries past the row are never stored (nor read later).
                if (r < rows && (!causal || j <= r0 + r))
                    P[r * S + j] = __fmul_rn(acc[i], scale);  // __fmul_rn: never fused
            }
        }
    }
    __syncthreads();

    // Softmax, one warp per row: exact max, exp, exact sum, then divide (IEEE, as the reference).
    for (int r = warp; r < rows; r += kWarps) {  // warp-uniform: every lane reaches the shuffles
        float* row = P + r * S;
        const int allowed = causal ? r0 + r + 1 : S;
        float m = -INFINITY;
        for (int j = lane; j < allowed; j += 32) m = fmaxf(m, row[j]);
        m = warp_max(m);
        float sum = 0.0f;
        for (int j = lane; j < allowed; j += 32) {
            const float e = expf(row[j] - m);
            row[j] = e;
            sum += e;
        }
        sum = warp_sum(sum);  // >= 1: the max entry contributes exp(0)
        for (int j = lane; j < allowed; j += 32) row[j] = __fdiv_rn(row[j], sum);
    }
    __syncthreads();

    // Maps: each row written once by the whole block, 32 consecutive entries per warp store,
    // streaming (evict-first) since the GPU never reads them back. Past the causal limit: 0.
    if constexpr (kStore != Store::None) {
        for (int r = 0; r < rows; ++r) {
            const float* row = P + r * S;
            const int allowed = causal ? r0 + r + 1 : S;
            const size_t base = (size_t(h) * S + size_t(r0 + r)) * size_t(S);
            if constexpr (kStore == Store::F32) {
                float* out = static_cast<float*>(maps) + base;
                for (int j = t; j < S; j += kThreads) __stcs(out + j, j < allowed ? row[j] : 0.0f);
            } else {
                __half* out = static_cast<__half*>(maps) + base;
                // Pairs need 4-byte alignment: a row starting at an odd half takes one scalar
                // first; an odd remainder takes one scalar last.
                const int lead = (reinterpret_cast<uintptr_t>(out) & 3u) ? 1 : 0;
                const int pairs = (S - lead) / 2;
                for (int p = t; p < pairs; p += kThreads) {
                    const int j = lead + 2 * p;
                    const float a = j < allowed ? row[j] : 0.0f;
                    const float b = j + 1 < allowed ? row[j + 1] : 0.0f;
                    __stcs(reinterpret_cast<__half2*>(out + j), __floats2half2_rn(a, b));
                }
                if (t == 0 && lead) __stcs(out, __float2half_rn(row[0]));  // allowed >= 1
                const int last = lead + 2 * pairs;
                if (t == kThreads - 1 && last < S)
                    __stcs(out + last, __float2half_rn(last < allowed ? row[last] : 0.0f));
            }
        }
    }

    // ctx = P·V from the fp32 probabilities in shared memory: warp w owns rows w, w + kWarps, ...
    // and lane l columns l, l + 32, ...; keys in ascending order, V tiles staged in shared memory.
    constexpr int kRowsPerWarp = (R + kWarps - 1) / kWarps;
    float acc[kRowsPerWarp][kMaxCols];
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i)
#pragma unroll
        for (int c = 0; c < kMaxCols; ++c) acc[i][c] = 0.0f;
    for (int k0 = 0; k0 < nkeys; k0 += kKeyTile) {
        const int len = min(kKeyTile, nkeys - k0);
        __syncthreads();  // the previous tile (K or V) has been consumed
        load_tile(tile, qkv + size_t(k0) * ld + 2 * size_t(C) + size_t(h) * D, ld, len, D);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < kRowsPerWarp; ++i) {
            const int r = warp + kWarps * i;
            if (r >= rows) continue;  // warp-uniform
            const int allowed = causal ? r0 + r + 1 : S;
            const int end = min(len, allowed - k0);  // <= 0: this tile is past the row
            const float* p = P + r * S + k0;
            for (int j = 0; j < end; ++j) {
                const float pj = p[j];
                const float* v = tile + j * stride;
#pragma unroll
                for (int c = 0; c < kMaxCols; ++c) {
                    const int d = lane + 32 * c;
                    if (d < D) acc[i][c] = fmaf(pj, v[d], acc[i][c]);
                }
            }
        }
    }
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
        const int r = warp + kWarps * i;
        if (r >= rows) continue;
        float* out = ctx + size_t(r0 + r) * C + size_t(h) * D;
#pragma unroll
        for (int c = 0; c < kMaxCols; ++c) {
            const int d = lane + 32 * c;
            if (d < D) out[d] = acc[i][c];
        }
    }
}

template <int R, Store kStore>
void launch_fused(cudaStream_t stream, float* ctx, void* maps, const float* qkv,
                  const AttentionShape& shape, float scale, int optin) {
    const int S = shape.seq, D = shape.head_dim, C = shape.n_head * D;
    const size_t bytes = smem_bytes(R, S, D);
    // Opt in to the device's whole budget (not just `bytes`): every caller sets the same value,
    // so concurrent host threads can never lower it under another's launch.
    if (bytes > kDefaultSmem)
        check(cudaFuncSetAttribute(attention_kernel<R, kStore>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, optin),
              "cudaFuncSetAttribute(attention_kernel)");
    const dim3 grid((S + R - 1) / R, shape.n_head);
    attention_kernel<R, kStore>
        <<<grid, kThreads, bytes, stream>>>(ctx, maps, qkv, S, C, D, shape.causal, scale);
    check_launch("attention_kernel");
}

template <int R>
void launch_fused(cudaStream_t stream, float* ctx, void* maps, MapType map_type, const float* qkv,
                  const AttentionShape& shape, float scale, int optin) {
    if (!maps)
        launch_fused<R, Store::None>(stream, ctx, maps, qkv, shape, scale, optin);
    else if (map_type == MapType::F32)
        launch_fused<R, Store::F32>(stream, ctx, maps, qkv, shape, scale, optin);
    else
        launch_fused<R, Store::F16>(stream, ctx, maps, qkv, shape, scale, optin);
}

// q·k accumulated in d order, then scaled (__fmul_rn: the product is rounded on its own, so
// every pass that recomputes a score gets the same float).
__device__ __forceinline__ float score(const float* __restrict__ q, const float* __restrict__ k,
                                       int D, float scale) {
    float acc = 0.0f;
    for (int d = 0; d < D; ++d) acc = fmaf(q[d], k[d], acc);
    return __fmul_rn(acc, scale);
}

// One thread per (head, query row); blocks of 128 threads over H*S. qkv (S, 3C); ctx (S, C);
// maps (H, S, S), which also holds the row's unnormalised exponentials between passes 2 and 3.
__global__ void attention_reference_kernel(float* __restrict__ ctx, float* __restrict__ maps,
                                           const float* __restrict__ qkv, int S, int H, int D,
                                           bool causal, float scale) {
    const int64_t index = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (index >= int64_t(H) * S) return;
    const int h = int(index / S), i = int(index % S);
    const int C = H * D;
    const size_t ld = 3 * size_t(C);
    const float* q = qkv + size_t(i) * ld + size_t(h) * D;
    const float* K = qkv + C + size_t(h) * D;
    const float* V = qkv + 2 * size_t(C) + size_t(h) * D;
    float* row = maps + (size_t(h) * S + i) * size_t(S);  // (S)
    const int allowed = causal ? i + 1 : S;
    float m = -INFINITY;
    for (int j = 0; j < allowed; ++j) m = fmaxf(m, score(q, K + size_t(j) * ld, D, scale));
    float sum = 0.0f;
    for (int j = 0; j < allowed; ++j) {
        const float e = expf(score(q, K + size_t(j) * ld, D, scale) - m);
        row[j] = e;
        sum += e;
    }
    for (int j = 0; j < S; ++j) row[j] = j < allowed ? __fdiv_rn(row[j], sum) : 0.0f;
    for (int d = 0; d < D; ++d) {
        float acc = 0.0f;
        for (int j = 0; j < allowed; ++j) acc = fmaf(row[j], V[size_t(j) * ld + d], acc);
        ctx[size_t(i) * C + size_t(h) * D + d] = acc;
    }
}

}  // namespace

float attention_scale(int D) {
    return float(1.0 / std::sqrt(double(D)));
}

int attention_max_seq(int head_dim) {
    check_head_dim(head_dim);
    const size_t fixed = smem_bytes(1, 0, head_dim);
    const size_t optin = size_t(optin_smem_bytes());
    return optin > fixed ? int((optin - fixed) / sizeof(float)) : 0;
}

void attention(cudaStream_t stream, float* ctx, void* maps, MapType map_type, const float* qkv,
               const AttentionShape& shape) {
    const int S = shape.seq, H = shape.n_head, D = shape.head_dim;
    check_head_dim(D);
    if (S <= 0 || H <= 0) return;  // nothing to compute (and a 0-block grid is a launch error)
    const int max_seq = attention_max_seq(D);
    if (S > max_seq)
        throw Error("CUDA attention: sequence length S=" + std::to_string(S) +
                    " exceeds the fused kernel's limit of " + std::to_string(max_seq) +
                    " for head_dim D=" + std::to_string(D) + " (shared memory)");
    const int optin = optin_smem_bytes();
    const float scale = attention_scale(D);
    // The most rows per block that fit: more rows share each K/V tile load.
    const auto fits = [&](int R) { return smem_bytes(R, S, D) <= size_t(optin); };
    if (fits(16))
        launch_fused<16>(stream, ctx, maps, map_type, qkv, shape, scale, optin);
    else if (fits(8))
        launch_fused<8>(stream, ctx, maps, map_type, qkv, shape, scale, optin);
    else if (fits(4))
        launch_fused<4>(stream, ctx, maps, map_type, qkv, shape, scale, optin);
    else if (fits(2))
        launch_fused<2>(stream, ctx, maps, map_type, qkv, shape, scale, optin);
    else
        launch_fused<1>(stream, ctx, maps, map_type, qkv, shape, scale, optin);
}

void attention_reference(cudaStream_t stream, float* ctx, float* maps, const float* qkv,
                         const AttentionShape& shape) {
    const int S = shape.seq, H = shape.n_head, D = shape.head_dim;
    check_head_dim(D);
    if (S <= 0 || H <= 0) return;
    constexpr int kBlock = 128;
    const int64_t threads = int64_t(H) * S;
    const unsigned blocks = unsigned((threads + kBlock - 1) / kBlock);
    attention_reference_kernel<<<blocks, kBlock, 0, stream>>>(ctx, maps, qkv, S, H, D, shape.causal,
                                                              attention_scale(D));
    check_launch("attention_reference_kernel");
}

}  // namespace headmap::cuda
