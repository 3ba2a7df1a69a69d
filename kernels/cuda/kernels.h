// CUDA kernels: plain functions over raw device buffers, launched on a caller's stream (shapes in
// the comments, row-major, as kernels/cpu/ops.h). Declared in plain C++ so the engine (g++) can
// call them; defined in .cu files compiled by nvcc. Launches are asynchronous; a launch error
// throws headmap::Error naming the kernel.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/types.h"

namespace headmap::cuda {

// How attention maps are stored: F32 (exact), or F16 (halves the bytes to write and to copy).
enum class MapType { F32, F16 };

// x (S, C) = token[ids] + position[positions] (+ token_type[type_ids]), summed in HF's order
// (word + type first, then position). positions and type_ids are per token; token_type and
// type_ids may be null (no token types).
void embed(cudaStream_t stream, float* x, const float* token, const float* position,
           const float* token_type, const int32_t* ids, const int32_t* positions,
           const int32_t* type_ids, int S, int C);

// out (S, C) = (in - mean) / sqrt(var + eps) * weight + bias, per row; out may equal in.
void layernorm(cudaStream_t stream, float* out, const float* in, const float* weight,
               const float* bias, int S, int C, float eps);

// The epilogue of a projection after cuBLAS wrote out (S, N) = in·W (Accumulate: cuBLAS ran with
// beta = 1, so the residual is already in): out += bias (bias may be null), then GELU for the
// GELU epilogues.
void bias_epilogue(cudaStream_t stream, float* out, const float* bias, int S, int N,
                   Epilogue epilogue);

// x (n) += y (n): the residual add where it is not fused into the projection.
void add_inplace(cudaStream_t stream, float* x, const float* y, int64_t n);

// The fused attention. One block takes one head and a block of query rows; Q, K and V are read in
// place from qkv (S, 3C) (no permute). Each row's scores are kept in shared memory, its exact max
// and sum taken, and the normalised row written once with streaming stores: maps (H, S, S) as
// `map_type`, the causal triangle written as zeros without being computed. ctx (S, C) = P·V, heads
// side by side. maps may be null (a layer nobody consumes): nothing is written there.
void attention(cudaStream_t stream, float* ctx, void* maps, MapType map_type, const float* qkv,
               const AttentionShape& shape);
// The longest S the fused kernel takes for this head size (its shared memory bound).
int attention_max_seq(int head_dim);

// The score scale every attention here applies: the float nearest to reference::attention's double
// 1/sqrt(D).
float attention_scale(int head_dim);

// The plain reference: one thread per (head, query row), three passes, F32 maps. Kept for tests.
void attention_reference(cudaStream_t stream, float* ctx, float* maps, const float* qkv,
                         const AttentionShape& shape);

// In place over maps (H, S, S) of raw scores: each row becomes its softmax over the allowed keys
// (causal: keys <= the row), the rest 0. The plain three-pass row softmax of the unfused baseline
// (Blas::attention_baseline); the forward never uses it.
void softmax_rows(cudaStream_t stream, float* maps, int H, int S, bool causal);

// Per-head statistics of F32 maps (H, S, S) already on the device, so `stats` needs no map
// transfer. Same definitions as analysis::head_stats_reference (engine/analysis/head_stats.cpp): over
// allowed entries only (causal: j <= i). out (H, kHeadStatFields) doubles in HeadStatField order;
// column_sums (H, S) doubles, or null to skip them.
enum HeadStatField {
    kStatEntropy,
    kStatNormalizedEntropy,
    kStatSparsity,
    kStatMax,
    kStatFirst,
    kStatPrevious,
    kStatSelf,
    kStatDistance,
    kStatLocal,
    kStatMedium,
    kStatGlobal,
    kStatTop5Mass,
    kHeadStatFields
};
void head_stats(cudaStream_t stream, const float* maps, int H, int S, bool causal, double threshold,
                double* out, double* column_sums);

}  // namespace headmap::cuda
