// CPU kernels: plain functions over raw row-major buffers (shapes in the comments).
// namespace reference: simple loops, kept as the ground truth the fast path is tested against.
// namespace cpu (fast): OpenBLAS sgemm (single-threaded per call) plus hand-written attention,
// softmax, layernorm and GELU, parallelised by a ThreadPool.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/cpu/thread_pool.h"
#include "kernels/types.h"

namespace headmap {

// A model's embedding tables and how it numbers positions.
struct EmbeddingTables {
    std::span<const float> token{};       // (V, C)
    std::span<const float> position{};    // (P, C)
    std::span<const float> token_type{};  // (T, C), or empty: the model has no token types
    int position_offset = 0;              // position id of the first token
    // >= 0: tokens with this id sit at position position_offset - 1 and are not counted, so the
    // tokens after them keep their numbering (RoBERTa's padding rule).
    int position_pad_id = -1;
};

namespace reference {

// x (S, C) = token[ids] + position[position ids] + token_type[type_ids]; empty type_ids mean 0.
// Callers check ids, type ids and positions against the tables' sizes.
void embed(std::span<float> x, const EmbeddingTables& tables, std::span<const int32_t> ids,
           std::span<const int32_t> type_ids, int C);
// out (S, N) = epilogue(in (S, K) · W + bias); W is (K, N) for InOut, (N, K) for OutIn
void linear(std::span<float> out, std::span<const float> in, std::span<const float> weight,
            std::span<const float> bias, int S, int K, int N, WeightLayout layout,
            Epilogue epilogue);
// out (S, C) = (in - mean) / sqrt(var + eps) * w + b, per row
void layernorm(std::span<float> out, std::span<const float> in, std::span<const float> weight,
               std::span<const float> bias, int S, int C, float eps);
// maps (H, S, S): softmax(QK^T / sqrt(D)) with the causal triangle exactly 0;
// ctx (S, C) = maps · V, heads side by side.
void attention(std::span<float> ctx, std::span<float> maps, std::span<const float> qkv,
               const AttentionShape& shape);
float gelu_tanh(float x);
float gelu_erf(float x);

}  // namespace reference

namespace cpu {

void embed(std::span<float> x, const EmbeddingTables& tables, std::span<const int32_t> ids,
           std::span<const int32_t> type_ids, int C);
void linear(ThreadPool& pool, std::span<float> out, std::span<const float> in,
            std::span<const float> weight, std::span<const float> bias, int S, int K, int N,
            WeightLayout layout, Epilogue epilogue);
void layernorm(ThreadPool& pool, std::span<float> out, std::span<const float> in,
               std::span<const float> weight, std::span<const float> bias, int S, int C, float eps);

// Rows per attention task. Causal tasks compute only the key columns up to their last row.
constexpr int kAttentionRowBlock = 64;

// Scratch floats the fast attention needs when `maps` is empty (a layer nobody consumes).
inline int64_t attention_scratch_floats(int threads, int max_seq) {
    return int64_t(threads) * kAttentionRowBlock * max_seq;
}

// maps (H, S, S) is written in place (the ring slot) when non-empty; otherwise scores live in
// `scratch` and are dropped. ctx (S, C) receives P·V.
void attention(ThreadPool& pool, std::span<float> ctx, std::span<float> maps,
               std::span<float> scratch, std::span<const float> qkv, const AttentionShape& shape);

// In-place GELU over x[0, n), the linear epilogues (also used by linear_packed).
void gelu_tanh_inplace(float* x, int n);
void gelu_erf_inplace(float* x, int n);

// In-place softmax over row[0, n); exported for tests.
void softmax_row(float* row, int n);
// Vectorisable exp used by softmax and GELU (max relative error ~2e-7 over the float range).
void exp_inplace(float* x, int n);

}  // namespace cpu
}  // namespace headmap
