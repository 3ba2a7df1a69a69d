// The forward pass as one schedule shared by every backend: which op runs on which activation
// buffer, in which order, for pre-norm (GPT-2) and post-norm (BERT family) stacks. Backends
// supply the ops (CPU: engine.cpp; CUDA: cuda_forward.cpp) and own the buffers; the differences
// between architectures stay data (ArchSpec, ModelWeights), not copies of this loop.
#pragma once

#include <cstdint>
#include <span>

#include "engine/architecture.h"
#include "engine/config.h"
#include "engine/model_weights.h"
#include "kernels/types.h"

namespace headmap {

// The activation arena's buffers, named for the ops.
enum class Buffer {
    Residual,  // x (S, C): each layer's input and output
    Normed,    // (S, C)
    Qkv,       // (S, 3C)
    Context,   // (S, C)
    Mlp,       // (S, F)
};

// Which projection of a layer a linear is (the order of a backend's per-layer weight copies).
enum class Projection { Qkv = 0, AttnOut = 1, MlpIn = 2, MlpOut = 3 };
constexpr int kProjectionsPerLayer = 4;

// Ops must provide:
//   void embed(Buffer out);
//   void layernorm(Buffer out, Buffer in, std::span<const float> weight,
//                  std::span<const float> bias);
//   void linear(int layer, Projection which, Buffer out, Buffer in, std::span<const float> weight,
//               std::span<const float> bias, int K, int N, Epilogue epilogue);
//   void attention(int layer, bool emit);  // qkv -> context, maps to the ring when emit
//   void tap(const char* name, int layer, Buffer buffer);
// Runs layers 0..last_layer; `emit(l)` says whether layer l's maps are published. With
// `final_norm`, applies the model's final norm (if any) and returns the buffer that holds the
// hidden state; otherwise returns Buffer::Residual.
template <class Ops, class EmitFn>
Buffer run_forward_schedule(Ops& ops, const ModelConfig& config, const ArchSpec& arch,
                            const ModelWeights& weights, int last_layer, EmitFn&& emit,
                            bool final_norm, int& layers_computed) {
    const int C = config.d_model, F = config.d_ff;
    const bool post_norm = arch.norm_placement == NormPlacement::PostLN;
    if (weights.embed_norm_weight.empty()) {
        ops.embed(Buffer::Residual);
    } else {  // BERT: the embedding sum is normalised before the first layer
        ops.embed(Buffer::Normed);
        ops.layernorm(Buffer::Residual, Buffer::Normed, weights.embed_norm_weight,
                      weights.embed_norm_bias);
    }
    ops.tap("embeddings", -1, Buffer::Residual);
    // PreLN: x += attn(norm(x)); x += mlp(norm(x)).
    // PostLN: normed = norm(x + attn(x)); x = norm(normed + mlp(normed)).
    for (int l = 0; l <= last_layer; ++l) {
        const LayerWeights& w = weights.layers[size_t(l)];
        if (!post_norm) {
            ops.layernorm(Buffer::Normed, Buffer::Residual, w.attn_norm_weight, w.attn_norm_bias);
            ops.tap("attn_norm", l, Buffer::Normed);
        }
        ops.linear(l, Projection::Qkv, Buffer::Qkv, post_norm ? Buffer::Residual : Buffer::Normed,
                   w.qkv_weight, w.qkv_bias, C, 3 * C, Epilogue::Store);
        ops.tap("qkv", l, Buffer::Qkv);
        ops.attention(l, emit(l));
        ops.linear(l, Projection::AttnOut, Buffer::Residual, Buffer::Context, w.attn_out_weight,
                   w.attn_out_bias, C, C, Epilogue::Accumulate);
        ops.tap("attn_residual", l, Buffer::Residual);
        ops.layernorm(Buffer::Normed, Buffer::Residual,
                      post_norm ? w.attn_norm_weight : w.mlp_norm_weight,
                      post_norm ? w.attn_norm_bias : w.mlp_norm_bias);
        ops.tap(post_norm ? "attn_norm" : "mlp_norm", l, Buffer::Normed);
        ops.linear(l, Projection::MlpIn, Buffer::Mlp, Buffer::Normed, w.mlp_in_weight,
                   w.mlp_in_bias, C, F, gelu_epilogue(config.activation));
        ops.tap("mlp_act", l, Buffer::Mlp);
        const Buffer mlp_residual = post_norm ? Buffer::Normed : Buffer::Residual;
        ops.linear(l, Projection::MlpOut, mlp_residual, Buffer::Mlp, w.mlp_out_weight,
                   w.mlp_out_bias, F, C, Epilogue::Accumulate);
        ops.tap("mlp_residual", l, mlp_residual);
        if (post_norm) {
            ops.layernorm(Buffer::Residual, Buffer::Normed, w.mlp_norm_weight, w.mlp_norm_bias);
            ops.tap("mlp_norm", l, Buffer::Residual);
        }
        layers_computed = l + 1;
    }
    if (!final_norm) return Buffer::Residual;
    if (weights.final_norm_weight.empty()) {
        ops.tap("hidden", config.n_layer - 1, Buffer::Residual);
        return Buffer::Residual;
    }
    ops.layernorm(Buffer::Normed, Buffer::Residual, weights.final_norm_weight,
                  weights.final_norm_bias);
    ops.tap("hidden", config.n_layer - 1, Buffer::Normed);
    return Buffer::Normed;
}

}  // namespace headmap
