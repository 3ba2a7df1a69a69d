// Fast CPU kernels except attention (attention.cpp). Projections are one sgemm per thread over a
// slice of output columns, so every thread streams its own part of the weights once.

#include <algorithm>
#include <cmath>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/ops.h"

namespace headmap::cpu {
namespace {

constexpr int kColumnAlign = 16;  // keep slices on whole sgemm micro-tiles

}  // namespace

// gelu_tanh(x) = 0.5x(1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x^3)
void gelu_tanh_inplace(float* __restrict x, int n) {
    constexpr int kChunk = 64;
    float e[kChunk];
    for (int start = 0; start < n; start += kChunk) {
        const int m = std::min(kChunk, n - start);
        float* v = x + start;
        for (int i = 0; i < m; ++i)
            e[i] = -2.0f * 0.7978845608028654f * (v[i] + 0.044715f * v[i] * v[i] * v[i]);
        fast_math::exp_inplace(e, m);
        for (int i = 0; i < m; ++i) v[i] = v[i] / (1.0f + e[i]);
    }
}

// gelu_erf(x) = 0.5x(1 + erf(x/sqrt2)); erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7).
void gelu_erf_inplace(float* __restrict x, int n) {
    constexpr int kChunk = 64;
    float e[kChunk];
    for (int start = 0; start < n; start += kChunk) {
        const int m = std::min(kChunk, n - start);
        float* v = x + start;
        for (int i = 0; i < m; ++i) {
            float z = v[i] * 0.70710678118654752f;
            e[i] = -z * z;
        }
        fast_math::exp_inplace(e, m);
        for (int i = 0; i < m; ++i) {
            float z = std::fabs(v[i] * 0.70710678118654752f);
            float t = 1.0f / (1.0f + 0.3275911f * z);
            float poly =
                t *
                (0.254829592f +
                 t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
            float erf_abs = 1.0f - poly * e[i];
            float erf = v[i] < 0 ? -erf_abs : erf_abs;
            v[i] = 0.5f * v[i] * (1.0f + erf);
        }
    }
}

void exp_inplace(float* x, int n) {
    fast_math::exp_inplace(x, n);
}

void embed(std::span<float> x, const EmbeddingTables& tables, std::span<const int32_t> ids,
           std::span<const int32_t> type_ids, int C) {
    int counted = 0;
    for (size_t s = 0; s < ids.size(); ++s) {
        int position = tables.position_offset + int(s);
        if (tables.position_pad_id >= 0)
            position = ids[s] == tables.position_pad_id ? tables.position_offset - 1
                                                        : tables.position_offset + counted++;
        const float* tok = &tables.token[size_t(ids[s]) * C];
        const float* pos = &tables.position[size_t(position) * C];
        float* out = &x[s * C];
        // HF adds word + token type first, then the position: float sums in that order.
        if (tables.token_type.empty()) {
            for (int c = 0; c < C; ++c) out[c] = tok[c] + pos[c];
        } else {
            const float* type = &tables.token_type[size_t(type_ids.empty() ? 0 : type_ids[s]) * C];
            for (int c = 0; c < C; ++c) out[c] = (tok[c] + type[c]) + pos[c];
        }
    }
}

void linear(ThreadPool& pool, std::span<float> out, std::span<const float> in,
            std::span<const float> weight, std::span<const float> bias, int S, int K, int N,
            WeightLayout layout, Epilogue epilogue) {
    const int slices = std::min(pool.size(), std::max(1, N / kColumnAlign));
    const int per_slice = (N / kColumnAlign + slices - 1) / slices * kColumnAlign;
    pool.run(slices, [&](int slice, int) {
        const int n0 = slice * per_slice;
        const int n1 = slice == slices - 1 ? N : std::min(N, n0 + per_slice);
        if (n0 >= n1) return;
        const int width = n1 - n0;
        float* o = out.data() + n0;  // (S, width) with row stride N
        float beta = 0.0f;
        if (epilogue == Epilogue::Accumulate) {
            beta = 1.0f;
            if (!bias.empty())
                for (int s = 0; s < S; ++s)
                    for (int n = 0; n < width; ++n) o[size_t(s) * N + n] += bias[n0 + n];
        } else if (!bias.empty()) {
            beta = 1.0f;
            for (int s = 0; s < S; ++s) std::copy_n(bias.data() + n0, width, o + size_t(s) * N);
        }
        if (layout == WeightLayout::InOut)  // W (K, N): columns n0..n1
            blas::sgemm(blas::Transpose::No, blas::Transpose::No, S, width, K, 1.0f, in.data(), K,
                        weight.data() + n0, N, beta, o, N);
        else  // W (N, K): rows n0..n1
            blas::sgemm(blas::Transpose::No, blas::Transpose::Yes, S, width, K, 1.0f, in.data(), K,
                        weight.data() + size_t(n0) * K, K, beta, o, N);
        if (epilogue == Epilogue::GeluTanh)
            for (int s = 0; s < S; ++s) gelu_tanh_inplace(o + size_t(s) * N, width);
        else if (epilogue == Epilogue::GeluErf)
            for (int s = 0; s < S; ++s) gelu_erf_inplace(o + size_t(s) * N, width);
    });
}

void layernorm(ThreadPool& pool, std::span<float> out, std::span<const float> in,
               std::span<const float> weight, std::span<const float> bias, int S, int C,
               float eps) {
    const int tasks = std::min(S, pool.size() * 4);
    pool.run(tasks, [&](int task, int) {
        const int s0 = int(int64_t(S) * task / tasks), s1 = int(int64_t(S) * (task + 1) / tasks);
        for (int s = s0; s < s1; ++s) {
            const float* __restrict x = &in[size_t(s) * C];
            float* __restrict y = &out[size_t(s) * C];
            const float mean = fast_math::sum_of(x, C) / C;
            float lanes[fast_math::kLanes] = {};
            int c = 0;
            for (; c + fast_math::kLanes <= C; c += fast_math::kLanes)
                for (int l = 0; l < fast_math::kLanes; ++l) {
                    float d = x[c + l] - mean;
                    lanes[l] += d * d;
                }
            float var = 0;
            for (float lane : lanes) var += lane;
            for (; c < C; ++c) var += (x[c] - mean) * (x[c] - mean);
            const float inv = 1.0f / std::sqrt(var / C + eps);
            for (c = 0; c < C; ++c) y[c] = (x[c] - mean) * inv * weight[c] + bias[c];
        }
    });
}

}  // namespace headmap::cpu
