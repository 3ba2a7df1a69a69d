// Per-head statistics of F32 attention maps already on the device (kernels.h: head_stats), with
// the definitions of analysis::head_stats_reference (engine/analysis/head_stats.cpp) field by field.
//
// One block per head, kThreads threads, nothing allocated: every partial result lives in
// registers and shared memory. The block reads its map (S, S) in these passes:
//   1. rows: warp w takes rows w, w + kWarps, ..., its lanes stride over the row's allowed keys
//      (causal: j <= i) and keep double sums; the row's entropy is warp-reduced so that each row
//      can be divided by ln(keys) as the reference does. The same pass builds the first radix
//      histogram (top 8 bits of every allowed entry's order key).
//   2. columns (only with column_sums): thread t sums columns t, t + kThreads, ... down the
//      allowed rows, so a warp's loads of one row are coalesced.
//   3-5. three more radix histograms (8 bits each, 256 shared bins) over the allowed entries that
//      share the key prefix chosen so far: after the fourth digit the key of the exact k-th
//      largest allowed entry v is known, and how many of the entries equal to v belong to the
//      top k (ties included, as nth_element's copy would hold them).
//   6. the sum of the allowed entries above v; top mass = that + (k left) * v.
// All sums are double; counts of entries stay below 2^32 (S <= kMaxSeq).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "headmap/error.hpp"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr int kBins = 256;  // one radix digit of 8 bits
// S * S allowed entries must fit the 32-bit histogram counts: 65535^2 < 2^32.
constexpr int kMaxSeq = 65535;

// A float's bits as an unsigned key in the same order (negatives flipped, -0 just below +0), as
// engine/analysis/head_stats.cpp's order_key: softmax entries are >= 0, but a -0 must not sort on top.
__device__ __forceinline__ uint32_t order_key(float v) {
    const uint32_t bits = __float_as_uint(v);
    return bits ^ ((bits >> 31) ? 0xffffffffu : 0x80000000u);
}

__device__ __forceinline__ float from_order_key(uint32_t key) {
    return __uint_as_float(key >= 0x80000000u ? key ^ 0x80000000u : ~key);
}

__device__ __forceinline__ double warp_sum(double v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ double warp_max(double v) {
    for (int offset = 16; offset > 0; offset /= 2)
        v = fmax(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// The block's sum (or maximum) of one value per thread, returned to every thread. shared:
// kWarps + 1 doubles; the trailing barrier lets the next call reuse them.
template <bool kMax>
__device__ double block_reduce(double v, double* shared) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = kMax ? warp_max(v) : warp_sum(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        // kMax: every value is >= 0 (the maximum starts at 0), so 0 is a neutral filler.
        double w = lane < kWarps ? shared[lane] : 0.0;
        w = kMax ? warp_max(w) : warp_sum(w);
        if (lane == 0) shared[kWarps] = w;
    }
    __syncthreads();
    const double result = shared[kWarps];
    __syncthreads();
    return result;
}

// Grid (H), kThreads threads. maps (H, S, S); out (H, kHeadStatFields); column_sums (H, S) or
// null. top: how many of the largest allowed entries top5_mass takes (>= 1, <= allowed).
__global__ void __launch_bounds__(kThreads)
    head_stats_kernel(const float* __restrict__ maps, int S, bool causal, double threshold,
                      uint32_t top, double* __restrict__ out, double* __restrict__ column_sums) {
    __shared__ uint32_t hist[kBins];
    __shared__ double reduce_scratch[kWarps + 1];
    __shared__ uint32_t chosen_prefix, chosen_k;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const size_t head = blockIdx.x;
    const float* map = maps + head * size_t(S) * size_t(S);  // (S, S)

    for (int b = t; b < kBins; b += kThreads) hist[b] = 0;
    __syncthreads();

    // Pass 1: the row statistics, each thread's share summed in double. Per-row values (entropy,
    // first, self, previous) are added by lane 0 only, so each row counts once.
    double entropy_sum = 0, normalized_sum = 0, first = 0, previous = 0, self = 0;
    double distance = 0, local = 0, medium = 0, global = 0, total = 0, below = 0, max = 0;
    for (int i = warp; i < S; i += kWarps) {
        const float* row = map + size_t(i) * size_t(S);
        const int keys = causal ? i + 1 : S;
        double entropy = 0;
#pragma unroll 4
        for (int j = lane; j < keys; j += 32) {
            const float value = row[j];
            const double a = value;
            total += a;
            if (a > 0) entropy -= a * log(a);  // 0 ln 0 = 0 (and a < 0 adds nothing)
            if (a < threshold) below += 1;     // in double, as the reference compares
            max = fmax(max, a);
            const int d = abs(i - j);
            distance += a * double(d);
            if (d <= 1)
                local += a;
            else if (d <= 3)
                medium += a;
            else
                global += a;
            atomicAdd(&hist[order_key(value) >> 24], 1u);
        }
        entropy = warp_sum(entropy);
        if (lane == 0) {
            entropy_sum += entropy;
            if (keys >= 2) normalized_sum += entropy / log(double(keys));
            first += row[0];
            self += row[i];
            if (i >= 1) previous += row[i - 1];
        }
    }

    // Pass 2: column sums over the allowed rows (causal: i >= j), independent of the rest.
    if (column_sums) {
        for (int j = t; j < S; j += kThreads) {
            double column = 0;
            for (int i = causal ? j : 0; i < S; ++i) column += map[size_t(i) * size_t(S) + j];
            column_sums[head * size_t(S) + j] = column;
        }
    }
    __syncthreads();  // the first histogram is complete

    // Passes 3-5 (the first digit's histogram came with pass 1): pick the bin holding the k-th
    // largest key among those with the prefix chosen so far, counting from the top bin; what lies
    // in higher bins is above the k-th largest, so k drops by their count.
    uint32_t prefix = 0, k = top;
    for (int shift = 24;; shift -= 8) {
        if (shift < 24) {
            const uint32_t mask = ~0u << (shift + 8);  // the bits already chosen
            for (int i = warp; i < S; i += kWarps) {
                const float* row = map + size_t(i) * size_t(S);
                const int keys = causal ? i + 1 : S;
#pragma unroll 4
                for (int j = lane; j < keys; j += 32) {
                    const uint32_t key = order_key(row[j]);
                    if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 0xffu], 1u);
                }
            }
            __syncthreads();
        }
        if (t == 0) {
            // The bins hold every entry with the prefix, at least k of them: b stays >= 0.
            int b = kBins - 1;
            uint32_t above = 0;
            while (above + hist[b] < k) above += hist[b--];
            chosen_prefix = prefix | (uint32_t(b) << shift);
            chosen_k = k - above;
        }
        __syncthreads();
        prefix = chosen_prefix;
        k = chosen_k;
        if (shift == 0) break;
        for (int b = t; b < kBins; b += kThreads) hist[b] = 0;
        __syncthreads();  // cleared before the next pass counts; chosen_* read by all
    }
    // prefix is now the full key of the k-th largest allowed entry v; k: how many entries equal
    // to v complete the top (the rest of the top lies strictly above v).
    const float v = from_order_key(prefix);

    // Pass 6: the mass strictly above v.
    double top_above = 0;
    for (int i = warp; i < S; i += kWarps) {
        const float* row = map + size_t(i) * size_t(S);
        const int keys = causal ? i + 1 : S;
#pragma unroll 4
        for (int j = lane; j < keys; j += 32) {
            const float value = row[j];
            if (order_key(value) > prefix) top_above += value;
        }
    }

    // Block sums, then the reference's divisions.
    entropy_sum = block_reduce<false>(entropy_sum, reduce_scratch);
    normalized_sum = block_reduce<false>(normalized_sum, reduce_scratch);
    first = block_reduce<false>(first, reduce_scratch);
    previous = block_reduce<false>(previous, reduce_scratch);
    self = block_reduce<false>(self, reduce_scratch);
    distance = block_reduce<false>(distance, reduce_scratch);
    local = block_reduce<false>(local, reduce_scratch);
    medium = block_reduce<false>(medium, reduce_scratch);
    global = block_reduce<false>(global, reduce_scratch);
    total = block_reduce<false>(total, reduce_scratch);
    below = block_reduce<false>(below, reduce_scratch);  // an exact count: < 2^53
    max = block_reduce<true>(max, reduce_scratch);
    top_above = block_reduce<false>(top_above, reduce_scratch);
    if (t == 0) {
        const double rows = double(S);
        const double allowed =
            causal ? double(S) * double(S + 1) / 2 : double(S) * double(S);  // exact: < 2^53
        // Rows with >= 2 allowed keys: causal, every row but the first; otherwise all or none.
        const int normalized_rows = causal ? S - 1 : (S >= 2 ? S : 0);
        const double top_mass = top_above + double(k) * double(v);
        double* o = out + head * kHeadStatFields;
        o[kStatEntropy] = entropy_sum / rows;
        o[kStatNormalizedEntropy] = normalized_rows ? normalized_sum / normalized_rows : 0.0;
        o[kStatSparsity] = below / allowed;
        o[kStatMax] = max;
        o[kStatFirst] = first / rows;
        o[kStatPrevious] = S >= 2 ? previous / double(S - 1) : 0.0;  // rows i >= 1
        o[kStatSelf] = self / rows;
        o[kStatDistance] = distance / rows;
        o[kStatLocal] = local / rows;
        o[kStatMedium] = medium / rows;
        o[kStatGlobal] = global / rows;
        o[kStatTop5Mass] = total > 0 ? top_mass / total : 0.0;
    }
}

}  // namespace

void head_stats(cudaStream_t stream, const float* maps, int H, int S, bool causal, double threshold,
                double* out, double* column_sums) {
    if (H < 0 || S < 1 || S > kMaxSeq)
        throw Error("CUDA head_stats: H=" + std::to_string(H) + ", S=" + std::to_string(S) +
                    " (expected H >= 0 and 1 <= S <= " + std::to_string(kMaxSeq) + ")");
    if (H == 0) return;
    if (!maps || !out) throw Error("CUDA head_stats: null maps or output");
    // The reference's count: max(1, ceil(5% of the allowed entries)), computed the same way.
    const size_t allowed = causal ? size_t(S) * size_t(S + 1) / 2 : size_t(S) * size_t(S);
    const size_t top = std::max<size_t>(1, size_t(std::ceil(0.05 * double(allowed))));
    head_stats_kernel<<<H, kThreads, 0, stream>>>(maps, S, causal, threshold, uint32_t(top), out,
                                                  column_sums);
    check_launch("head_stats_kernel");
}

}  // namespace headmap::cuda
