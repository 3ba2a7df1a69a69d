// One instruction set's build of the hot CPU kernels (kernels/cpu/isa.h). CMake compiles this
// file once per set, with HEADMAP_ISA naming the namespace (isa_avx512, isa_avx2, isa_scalar) and
// that set's -m flags; the intrinsics below follow the compiler's macros (__AVX512F__, __AVX2__).
// Only plain loops and intrinsics: a standard-library template instantiated here could be shared
// by the linker with baseline code (tools/check_isa_objects.sh checks the object).
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/cpu/fast_log.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/isa.h"

#ifndef HEADMAP_ISA_NAME
#error "HEADMAP_ISA_NAME names the table (CMake sets it with HEADMAP_ISA)"
#endif

namespace headmap::cpu::HEADMAP_ISA {
namespace {

inline int min_int(int a, int b) {
    return a < b ? a : b;
}

// gelu_tanh(x) = 0.5x(1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x^3)
void gelu_tanh(float* __restrict x, int n) {
    constexpr int kChunk = 64;
    float e[kChunk];
    for (int start = 0; start < n; start += kChunk) {
        const int m = min_int(kChunk, n - start);
        float* v = x + start;
        for (int i = 0; i < m; ++i)
            e[i] = -2.0f * 0.7978845608028654f * (v[i] + 0.044715f * v[i] * v[i] * v[i]);
        fast_math::exp_inplace(e, m);
        for (int i = 0; i < m; ++i) v[i] = v[i] / (1.0f + e[i]);
    }
}

// gelu_erf(x) = 0.5x(1 + erf(x/sqrt2)); erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7).
void gelu_erf(float* __restrict x, int n) {
    constexpr int kChunk = 64;
    float e[kChunk];
    for (int start = 0; start < n; start += kChunk) {
        const int m = min_int(kChunk, n - start);
        float* v = x + start;
        for (int i = 0; i < m; ++i) {
            const float z = v[i] * 0.70710678118654752f;
            e[i] = -z * z;
        }
        fast_math::exp_inplace(e, m);
        for (int i = 0; i < m; ++i) {
            const float z = __builtin_fabsf(v[i] * 0.70710678118654752f);
            const float t = 1.0f / (1.0f + 0.3275911f * z);
            const float poly =
                t *
                (0.254829592f +
                 t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
            const float erf_abs = 1.0f - poly * e[i];
            const float erf = v[i] < 0 ? -erf_abs : erf_abs;
            v[i] = 0.5f * v[i] * (1.0f + erf);
        }
    }
}

void exp_inplace(float* x, int n) {
    fast_math::exp_inplace(x, n);
}

void softmax_row(float* row, int n) {
    const float max_score = fast_math::max_of(row, n);
    for (int j = 0; j < n; ++j) row[j] -= max_score;
    fast_math::exp_inplace(row, n);
    const float inv_sum = 1.0f / fast_math::sum_of(row, n);
    for (int j = 0; j < n; ++j) row[j] *= inv_sum;
}

void layernorm_rows(float* out, const float* in, const float* weight, const float* bias, int s0,
                    int s1, int C, float eps) {
    for (int s = s0; s < s1; ++s) {
        const float* __restrict x = in + size_t(s) * C;
        float* __restrict y = out + size_t(s) * C;
        const float mean = fast_math::sum_of(x, C) / C;
        float lanes[fast_math::kLanes] = {};
        int c = 0;
        for (; c + fast_math::kLanes <= C; c += fast_math::kLanes)
            for (int l = 0; l < fast_math::kLanes; ++l) {
                const float d = x[c + l] - mean;
                lanes[l] += d * d;
            }
        float var = 0;
        for (float lane : lanes) var += lane;
        for (; c < C; ++c) var += (x[c] - mean) * (x[c] - mean);
        const float inv = 1.0f / __builtin_sqrtf(var / C + eps);
        for (c = 0; c < C; ++c) y[c] = (x[c] - mean) * inv * weight[c] + bias[c];
    }
}

// ---- statistics rows (engine/analysis/head_stats.cpp) -------------------------------------------
//
// Written so that the compiler vectorises each loop (checked with -fopt-info-vec): one
// element-wise pass into double scratch rows with integer reductions, then the double sums.
// Double reductions, float selects or a float maximum in the element-wise loop leave it scalar.
// Element-wise: a |i - j| and a ln a = a (e ln 2 + ln m) per entry (a <= 0 adds nothing: its
// masked bits give +0), the column sums or the row's entries in double, entries below the
// threshold, and the largest entry's order key (an integer maximum, which vectorises).
template <bool kColumns>
void row_terms(const float* __restrict row, int keys, const double* __restrict distance,
               float threshold, double* __restrict columns, double* __restrict mass,
               double* __restrict entropy, double* __restrict weighted, RowStatSums& sums) {
    int32_t below = 0;
    uint32_t max_key = 0x80000000u;  // +0: the maximum starts at 0, as the reference's
    for (int j = 0; j < keys; ++j) {
        const float a = row[j];
        const double wide = a;
        if constexpr (kColumns)
            columns[j] += wide;  // the total comes from the column sums
        else
            mass[j] = wide;
        weighted[j] = wide * distance[j];
        const int32_t bits = __builtin_bit_cast(int32_t, a);
        const double positive = __builtin_bit_cast(float, bits & ~(bits >> 31));
        int32_t e;
        const float log_mantissa = fast_log::log_parts(fast_log::clamp_normal(a), e);
        entropy[j] = positive * (double(e) * fast_log::kLn2 + double(log_mantissa));
    }
    for (int j = 0; j < keys; ++j) {
        const float a = row[j];
        const int32_t bits = __builtin_bit_cast(int32_t, a);
        below += a < threshold ? 1 : 0;
        // The float's bits as an unsigned key in the same order (negatives flipped).
        const uint32_t key = uint32_t(bits ^ ((bits >> 31) | int32_t(0x80000000)));
        max_key = max_key > key ? max_key : key;
    }
    sums.below = below;
    sums.max = __builtin_bit_cast(float, max_key >= 0x80000000u ? max_key ^ 0x80000000u : ~max_key);
}

// The sums of kCount rows of n values, each in kLanes partial sums.
template <int kCount>
void sum_rows(const double* const (&rows)[kCount], int n, double (&out)[kCount]) {
    constexpr int kLanes = fast_math::kLanes;
    double lanes[kCount][kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int r = 0; r < kCount; ++r)
            for (int l = 0; l < kLanes; ++l) lanes[r][l] += rows[r][i + l];
    for (int r = 0; r < kCount; ++r) {
        out[r] = 0;
        for (int l = 0; l < kLanes; ++l) out[r] += lanes[r][l];
        for (int tail = i; tail < n; ++tail) out[r] += rows[r][tail];
    }
}

RowStatSums row_stats(const float* row, int keys, const double* distance, float threshold,
                      double* columns, double* mass, double* entropy, double* weighted) {
    RowStatSums sums;
    if (columns) {
        row_terms<true>(row, keys, distance, threshold, columns, mass, entropy, weighted, sums);
        double out[2];
        sum_rows<2>({entropy, weighted}, keys, out);
        sums.entropy = -out[0], sums.distance = out[1];
    } else {
        row_terms<false>(row, keys, distance, threshold, columns, mass, entropy, weighted, sums);
        double out[3];
        sum_rows<3>({entropy, weighted, mass}, keys, out);
        sums.entropy = -out[0], sums.distance = out[1], sums.total = out[2];
    }
    return sums;
}

// Four independent streams: one stream's store address waits on its own count, so four overlap
// where one would run at one entry per ~1.5 cycles. The store comes first, the count follows the
// test.
void copy_at_least(const float* row, int keys, float floor, float* const* region, size_t* count) {
    const int quarter = keys / 4;
    size_t c0 = count[0], c1 = count[1], c2 = count[2], c3 = count[3];
    float *r0 = region[0], *r1 = region[1], *r2 = region[2], *r3 = region[3];
    for (int j = 0; j < quarter; ++j) {
        const float a0 = row[j], a1 = row[quarter + j], a2 = row[2 * quarter + j],
                    a3 = row[3 * quarter + j];
        r0[c0] = a0, c0 += a0 >= floor ? 1 : 0;
        r1[c1] = a1, c1 += a1 >= floor ? 1 : 0;
        r2[c2] = a2, c2 += a2 >= floor ? 1 : 0;
        r3[c3] = a3, c3 += a3 >= floor ? 1 : 0;
    }
    for (int j = 4 * quarter; j < keys; ++j) r3[c3] = row[j], c3 += row[j] >= floor ? 1 : 0;
    count[0] = c0, count[1] = c1, count[2] = c2, count[3] = c3;
}

// ---- projections
// ---------------------------------------------------------------------------------

// The bias/residual part of a projection's epilogue for one row of `width` columns, on the first
// block of K; later blocks add their part. GELU runs after the last block (apply_gelu).
[[maybe_unused]] inline void finish_row(float* __restrict o, const float* __restrict t,
                                        const float* bias, int width, Epilogue epilogue,
                                        bool first) {
    if (!first) {
        for (int j = 0; j < width; ++j) o[j] += t[j];
    } else if (epilogue == Epilogue::Accumulate) {
        if (bias)
            for (int j = 0; j < width; ++j) o[j] += t[j] + bias[j];
        else
            for (int j = 0; j < width; ++j) o[j] += t[j];
    } else if (bias) {
        for (int j = 0; j < width; ++j) o[j] = t[j] + bias[j];
    } else {
        for (int j = 0; j < width; ++j) o[j] = t[j];
    }
}

// A tile of MR rows x one panel, computed into t, through finish_row into the output.
template <int MR>
inline void finish_tile(const LinearPanelsArgs& args, int s0, int p,
                        const float (&t)[MR][kPanelWidth], bool first) {
    const int n0 = p * kPanelWidth, width = min_int(kPanelWidth, args.N - n0);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
        finish_row(args.out + size_t(s0 + r) * args.N + n0, t[r],
                   args.bias ? args.bias + n0 : nullptr, width, args.epilogue, first);
}

inline void apply_gelu(const LinearPanelsArgs& args, int s0, int rows, int n0, int n1) {
    if (args.epilogue != Epilogue::GeluTanh && args.epilogue != Epilogue::GeluErf) return;
    for (int r = 0; r < rows; ++r) {
        float* o = args.out + size_t(s0 + r) * args.N + n0;
        if (args.epilogue == Epilogue::GeluTanh)
            gelu_tanh(o, n1 - n0);
        else
            gelu_erf(o, n1 - n0);
    }
}

#if defined(__AVX512F__)
// 8 rows x 3 panels: 24 zmm accumulators, 3 panel loads and 8 broadcasts per k. Measured on an
// AMD EPYC with AVX-512, GPT-2 small and bert-base shapes: packed panels 11-14% ahead of OpenBLAS
// at S = 256 and 512 (1 thread) and 8-13% at S = 1024; weights in place level with packed at
// S = 32 but 20-45% behind from S = 64 with 2 threads (the strided rows share the memory bus).
// In place is kept for the shortest inputs, which then pay for no copy at all.
constexpr int kTileRows = 8, kGroup = 3, kMaxRows = 1024, kInPlaceMaxRows = 32;

template <int MR, int NP>
void tile(const LinearPanelsArgs& args, int s0, int p, int k0, int k1, bool first) {
    const int K = args.K;
    const float* a = args.in + size_t(s0) * K;
    const size_t ps = args.weight.panel_stride, rs = args.weight.row_stride;
    const float* b = args.weight.data + size_t(p) * ps;
    __m512 acc[MR][NP];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_setzero_ps();
    // Weights read in place: fetch the next panel group's lines of this row of K while this
    // group computes (each row is in a page of its own, beyond the hardware prefetcher's reach).
    const bool in_place = ps == size_t(kPanelWidth);
    for (int k = k0; k < k1; ++k) {
        const float* bk = b + size_t(k) * rs;
        if (in_place)
#pragma GCC unroll 4
            for (int q = 0; q < NP; ++q)
                _mm_prefetch(reinterpret_cast<const char*>(bk + (NP + q) * kPanelWidth),
                             _MM_HINT_T0);
        __m512 bv[NP];
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q) bv[q] = _mm512_loadu_ps(bk + q * ps);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            const __m512 av = _mm512_set1_ps(a[size_t(r) * K + k]);
#pragma GCC unroll 4
            for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
        }
    }
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
        const int n0 = (p + q) * kPanelWidth;
        const int width = min_int(kPanelWidth, args.N - n0);
        const __mmask16 mask = __mmask16((1u << width) - 1u);
        const __m512 bias =
            args.bias && first ? _mm512_maskz_loadu_ps(mask, args.bias + n0) : _mm512_setzero_ps();
        const bool add_out = !first || args.epilogue == Epilogue::Accumulate;
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            float* o = args.out + size_t(s0 + r) * args.N + n0;
            __m512 v = _mm512_add_ps(acc[r][q], bias);
            if (add_out) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, o), v);
            _mm512_mask_storeu_ps(o, mask, v);
        }
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
// 6 rows x 1 panel (two ymm): 12 accumulators of the 16 ymm.
// One 64-byte line per row of K and step: weights read in place fall behind OpenBLAS past ~32
// rows (GPT-2 small, 1 thread: 65 ms at S = 16 against 58 packed; 190 against 168 at S = 64).
constexpr int kTileRows = 6, kGroup = 1, kMaxRows = 128, kInPlaceMaxRows = 32;

template <int MR, int NP>
void tile(const LinearPanelsArgs& args, int s0, int p, int k0, int k1, bool first) {
    static_assert(NP == 1);
    const int K = args.K;
    const float* a = args.in + size_t(s0) * K;
    const size_t rs = args.weight.row_stride;
    const float* b = args.weight.data + size_t(p) * args.weight.panel_stride;
    __m256 low[MR], high[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) low[r] = high[r] = _mm256_setzero_ps();
    const bool in_place = args.weight.panel_stride == size_t(kPanelWidth);  // as above
    for (int k = k0; k < k1; ++k) {
        if (in_place)
            _mm_prefetch(reinterpret_cast<const char*>(b + size_t(k) * rs + kPanelWidth),
                         _MM_HINT_T0);
        const __m256 b0 = _mm256_loadu_ps(b + size_t(k) * rs);
        const __m256 b1 = _mm256_loadu_ps(b + size_t(k) * rs + 8);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + size_t(r) * K + k);
            low[r] = _mm256_fmadd_ps(av, b0, low[r]);
            high[r] = _mm256_fmadd_ps(av, b1, high[r]);
        }
    }
    alignas(32) float t[MR][kPanelWidth];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
        _mm256_store_ps(t[r], low[r]);
        _mm256_store_ps(t[r] + 8, high[r]);
    }
    finish_tile<MR>(args, s0, p, t, first);
}
#else
// GCC's generic vectors: 16 floats per row, lowered to whatever the baseline has (4 SSE2 or NEON
// registers); 2 rows keep 8 of them as accumulators.
// 4-8x behind the vector builds: OpenBLAS (with its own dispatch) runs all but tiny inputs.
constexpr int kTileRows = 2, kGroup = 1, kMaxRows = 8, kInPlaceMaxRows = 8;
typedef float Row16 __attribute__((vector_size(64)));

template <int MR, int NP>
void tile(const LinearPanelsArgs& args, int s0, int p, int k0, int k1, bool first) {
    static_assert(NP == 1);
    const int K = args.K;
    const float* a = args.in + size_t(s0) * K;
    const size_t rs = args.weight.row_stride;
    const float* b = args.weight.data + size_t(p) * args.weight.panel_stride;
    Row16 acc[MR] = {};
    for (int k = k0; k < k1; ++k) {
        Row16 bv;
        __builtin_memcpy(&bv, b + size_t(k) * rs, sizeof bv);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) acc[r] += a[size_t(r) * K + k] * bv;
    }
    float t[MR][kPanelWidth];
    __builtin_memcpy(t, acc, sizeof t);
    finish_tile<MR>(args, s0, p, t, first);
}
#endif

template <int NP>
void tile_rows(const LinearPanelsArgs& args, int s0, int rows, int p, int k0, int k1, bool first) {
    // rows in 1..kTileRows; the compiler keeps each case's accumulators in registers.
    switch (rows) {
        case 8:
            if constexpr (kTileRows >= 8) return tile<8, NP>(args, s0, p, k0, k1, first);
            break;
        case 7:
            if constexpr (kTileRows >= 7) return tile<7, NP>(args, s0, p, k0, k1, first);
            break;
        case 6:
            if constexpr (kTileRows >= 6) return tile<6, NP>(args, s0, p, k0, k1, first);
            break;
        case 5:
            if constexpr (kTileRows >= 5) return tile<5, NP>(args, s0, p, k0, k1, first);
            break;
        case 4:
            return tile<4, NP>(args, s0, p, k0, k1, first);
        case 3:
            return tile<3, NP>(args, s0, p, k0, k1, first);
        case 2:
            return tile<2, NP>(args, s0, p, k0, k1, first);
        default:
            return tile<1, NP>(args, s0, p, k0, k1, first);
    }
}

void linear_panels(const LinearPanelsArgs& args, int p0, int p1) {
    const int K = args.K, block = args.weight.k_block > 0 ? args.weight.k_block : K;
    for (int k0 = 0; k0 < K || k0 == 0; k0 += block) {
        const int k1 = min_int(K, k0 + block);
        const bool first = k0 == 0, last = k1 >= K;
        for (int p = p0; p < p1; p += kGroup) {
            const int count = min_int(kGroup, p1 - p);
            const int n0 = p * kPanelWidth, n1 = min_int(args.N, (p + count) * kPanelWidth);
            for (int s0 = 0; s0 < args.S; s0 += kTileRows) {
                const int rows = min_int(kTileRows, args.S - s0);
                if constexpr (kGroup == 3) {
                    if (count == 3)
                        tile_rows<3>(args, s0, rows, p, k0, k1, first);
                    else if (count == 2)
                        tile_rows<2>(args, s0, rows, p, k0, k1, first);
                    else
                        tile_rows<1>(args, s0, rows, p, k0, k1, first);
                } else {
                    tile_rows<1>(args, s0, rows, p, k0, k1, first);
                }
                if (last) apply_gelu(args, s0, rows, n0, n1);
            }
        }
        if (last) break;
    }
}

}  // namespace

extern const KernelTable table;
const KernelTable table = {
    .name = HEADMAP_ISA_NAME,
    .panel_group = kGroup,
    .panel_max_rows = kMaxRows,
    .in_place_max_rows = kInPlaceMaxRows,
    .linear_panels = linear_panels,
    .gelu_tanh = gelu_tanh,
    .gelu_erf = gelu_erf,
    .exp = exp_inplace,
    .softmax_row = softmax_row,
    .layernorm_rows = layernorm_rows,
    .row_stats = row_stats,
    .copy_at_least = copy_at_least,
};

}  // namespace headmap::cpu::HEADMAP_ISA
