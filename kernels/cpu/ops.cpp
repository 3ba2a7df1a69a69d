// Fast CPU kernels except attention (attention.cpp). Projections are one sgemm per thread over a
// slice of output columns, so every thread streams its own part of the weights once.

#include <algorithm>
#include <cmath>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"

namespace headmap::cpu {
namespace {

// Columns per sgemm task: whole micro-tiles, and enough tasks (6 for C = 768) to balance threads.
constexpr int kLinearChunkColumns = 128;

}  // namespace

void gelu_tanh_inplace(float* x, int n) {
    kernels().gelu_tanh(x, n);
}

void gelu_erf_inplace(float* x, int n) {
    kernels().gelu_erf(x, n);
}

void exp_inplace(float* x, int n) {
    kernels().exp(x, n);
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
    // Column chunks of a fixed width, whatever the thread count: OpenBLAS picks its kernels (and
    // so its summation order) by the call's shape, and a split by threads made the hidden state
    // depend on --threads in the last bits.
    const int chunks = (N + kLinearChunkColumns - 1) / kLinearChunkColumns;
    pool.run(chunks, [&](int chunk, int) {
        const int n0 = chunk * kLinearChunkColumns;
        const int n1 = std::min(N, n0 + kLinearChunkColumns);
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
        const KernelTable& k = kernels();
        if (epilogue == Epilogue::GeluTanh)
            for (int s = 0; s < S; ++s) k.gelu_tanh(o + size_t(s) * N, width);
        else if (epilogue == Epilogue::GeluErf)
            for (int s = 0; s < S; ++s) k.gelu_erf(o + size_t(s) * N, width);
    });
}

void layernorm(ThreadPool& pool, std::span<float> out, std::span<const float> in,
               std::span<const float> weight, std::span<const float> bias, int S, int C,
               float eps) {
    const int tasks = std::min(S, pool.size() * 4);
    const KernelTable& k = kernels();
    pool.run(tasks, [&](int task, int) {
        const int s0 = int(int64_t(S) * task / tasks), s1 = int(int64_t(S) * (task + 1) / tasks);
        k.layernorm_rows(out.data(), in.data(), weight.data(), bias.data(), s0, s1, C, eps);
    });
}

}  // namespace headmap::cpu
