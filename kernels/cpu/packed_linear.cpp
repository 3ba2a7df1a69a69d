// linear_packed: a 6x16 register tile over weights packed as (panels, K, 16).
#include "kernels/cpu/packed_linear.h"

#include <algorithm>
#include <new>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define HEADMAP_PACKED_AVX2 1
#endif

namespace headmap::cpu {
namespace {

constexpr int kTileRows = 6;        // 6 rows x 2 vectors = 12 accumulators of the 16 ymm
constexpr size_t kPanelAlign = 64;  // a cache line: each panel row of 16 floats is one line

// c (MR, 16) = a (MR rows, stride lda, K) · panel (K, 16)
#if HEADMAP_PACKED_AVX2
template <int MR>
void multiply_tile(const float* __restrict a, int lda, const float* __restrict panel, int K,
                   float* __restrict c) {
    __m256 low[MR], high[MR];
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) low[r] = high[r] = _mm256_setzero_ps();
    for (int k = 0; k < K; ++k) {
        const __m256 b0 = _mm256_load_ps(panel + size_t(k) * kPanelWidth);
        const __m256 b1 = _mm256_load_ps(panel + size_t(k) * kPanelWidth + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + size_t(r) * lda + k);
            low[r] = _mm256_fmadd_ps(av, b0, low[r]);
            high[r] = _mm256_fmadd_ps(av, b1, high[r]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
        _mm256_storeu_ps(c + r * kPanelWidth, low[r]);
        _mm256_storeu_ps(c + r * kPanelWidth + 8, high[r]);
    }
}
#else
template <int MR>
void multiply_tile(const float* __restrict a, int lda, const float* __restrict panel, int K,
                   float* __restrict c) {
    float acc[MR][kPanelWidth] = {};
    for (int k = 0; k < K; ++k)
        for (int r = 0; r < MR; ++r) {
            const float av = a[size_t(r) * lda + k];
            for (int j = 0; j < kPanelWidth; ++j)
                acc[r][j] += av * panel[size_t(k) * kPanelWidth + j];
        }
    for (int r = 0; r < MR; ++r) std::copy_n(acc[r], kPanelWidth, c + r * kPanelWidth);
}
#endif

void multiply_rows(int rows, const float* a, int lda, const float* panel, int K, float* c) {
    switch (rows) {
        case 6:
            multiply_tile<6>(a, lda, panel, K, c);
            break;
        case 5:
            multiply_tile<5>(a, lda, panel, K, c);
            break;
        case 4:
            multiply_tile<4>(a, lda, panel, K, c);
            break;
        case 3:
            multiply_tile<3>(a, lda, panel, K, c);
            break;
        case 2:
            multiply_tile<2>(a, lda, panel, K, c);
            break;
        default:
            multiply_tile<1>(a, lda, panel, K, c);
            break;
    }
}

}  // namespace

void PackedWeight::AlignedDelete::operator()(float* p) const {
    ::operator delete[](p, std::align_val_t{kPanelAlign});
}

PackedWeight::PackedWeight(std::span<const float> weight, int K, int N, WeightLayout layout)
    : k_(K), n_(N) {
    const size_t floats = size_t(panels()) * K * kPanelWidth;
    data_.reset(static_cast<float*>(::operator new[](std::max<size_t>(floats, 1) * sizeof(float),
                                                     std::align_val_t{kPanelAlign})));
    float* out = data_.get();
    for (int p = 0; p < panels(); ++p)
        for (int k = 0; k < K; ++k)
            for (int j = 0; j < kPanelWidth; ++j) {
                const int n = p * kPanelWidth + j;
                float value = 0.0f;
                if (n < N)
                    value = layout == WeightLayout::InOut ? weight[size_t(k) * N + n]
                                                          : weight[size_t(n) * K + k];
                *out++ = value;
            }
}

void linear_packed(ThreadPool& pool, std::span<float> out, std::span<const float> in,
                   const PackedWeight& weight, std::span<const float> bias, int S,
                   Epilogue epilogue) {
    const int K = weight.k(), N = weight.n(), panels = weight.panels();
    const int slices = std::min(pool.size(), panels);
    pool.run(slices, [&](int slice, int) {
        const int p0 = int(int64_t(panels) * slice / slices);
        const int p1 = int(int64_t(panels) * (slice + 1) / slices);
        alignas(32) float tile[kTileRows * kPanelWidth];  // (6, 16)
        for (int p = p0; p < p1; ++p) {
            const int n0 = p * kPanelWidth, width = std::min(kPanelWidth, N - n0);
            for (int s0 = 0; s0 < S; s0 += kTileRows) {
                const int rows = std::min(kTileRows, S - s0);
                multiply_rows(rows, in.data() + size_t(s0) * K, K, weight.panel(p), K, tile);
                for (int r = 0; r < rows; ++r) {
                    float* o = out.data() + size_t(s0 + r) * N + n0;
                    const float* t = tile + r * kPanelWidth;
                    if (epilogue == Epilogue::Accumulate) {
                        if (bias.empty())
                            for (int j = 0; j < width; ++j) o[j] += t[j];
                        else
                            for (int j = 0; j < width; ++j) o[j] += t[j] + bias[n0 + j];
                    } else {
                        if (bias.empty())
                            std::copy_n(t, width, o);
                        else
                            for (int j = 0; j < width; ++j) o[j] = t[j] + bias[n0 + j];
                    }
                }
            }
        }
        if (epilogue != Epilogue::GeluTanh && epilogue != Epilogue::GeluErf) return;
        const int n0 = p0 * kPanelWidth, n1 = std::min(N, p1 * kPanelWidth);
        for (int s = 0; s < S && n1 > n0; ++s) {
            float* o = out.data() + size_t(s) * N + n0;
            if (epilogue == Epilogue::GeluTanh)
                gelu_tanh_inplace(o, n1 - n0);
            else
                gelu_erf_inplace(o, n1 - n0);
        }
    });
}

}  // namespace headmap::cpu
