// A model's weights as fp32 views, bound by walking one list of (name, shape, destination) built
// from the architecture table. Loading, random initialisation and writing checkpoints all walk the
// same list, so they cannot disagree about names or shapes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/architecture.h"
#include "engine/config.h"

namespace headmap {

class WeightStore;

struct LayerWeights {
    std::span<const float> attn_norm_weight, attn_norm_bias;  // (C), (C)
    std::span<const float> qkv_weight, qkv_bias;              // (C, 3C) or (3C, C); (3C)
    // Separate projections as stored by BERT-style checkpoints, (C, C) and (C) each; the loader
    // packs them into qkv_weight / qkv_bias.
    std::span<const float> q_weight, q_bias, k_weight, k_bias, v_weight, v_bias;
    std::span<const float> attn_out_weight, attn_out_bias;  // (C, C); (C)
    std::span<const float> mlp_norm_weight, mlp_norm_bias;  // (C), (C)
    std::span<const float> mlp_in_weight, mlp_in_bias;      // (C, F) or (F, C); (F)
    std::span<const float> mlp_out_weight, mlp_out_bias;    // (F, C) or (C, F); (C)
};

struct ModelWeights {
    std::span<const float> token_embedding;                     // (V, C)
    std::span<const float> position_embedding;                  // (P, C)
    std::span<const float> token_type_embedding;                // (T, C) or empty
    std::span<const float> embed_norm_weight, embed_norm_bias;  // (C), (C) or empty
    std::span<const float> final_norm_weight, final_norm_bias;  // (C), (C) or empty
    std::vector<LayerWeights> layers;
    // Packed Q|K|V of architectures that store them separately: per layer (3C, C) then (3C).
    std::vector<float> packed_qkv;
};

// One tensor the model needs: its checkpoint name (without prefix), shape, and where it binds.
struct WeightSlot {
    std::string name;
    std::vector<int64_t> shape;
    std::span<const float>* destination;
    enum class Init { Normal, Ones, Zeros } init;  // for random weights

    size_t numel() const {
        size_t n = 1;
        for (int64_t d : shape) n *= size_t(d);
        return n;
    }
};

// Every tensor of `config`'s model, in checkpoint order; `weights.layers` is resized here.
// For separate Q/K/V the slots bind q_/k_/v_ spans; pack_qkv() then fills qkv_weight/qkv_bias.
std::vector<WeightSlot> weight_slots(const ModelConfig& config, const ArchSpec& arch,
                                     ModelWeights& weights);

// How many tensors weight_slots lists for `config`, counted without building the list (a config
// may claim 2^24 layers): what a checkpoint header is held to (engine/safetensors.h).
size_t weight_tensor_count(const ModelConfig& config, const ArchSpec& arch);

// Packs separately bound Q, K and V into weights.packed_qkv and points qkv_weight/qkv_bias at
// it; a no-op for fused architectures.
void pack_qkv(const ModelConfig& config, const ArchSpec& arch, ModelWeights& weights);

// Binds all weights from a checkpoint, detecting the name prefix ("" or "transformer.").
// `source` names the checkpoint in errors.
void bind_weights(WeightStore& store, const ModelConfig& config, const ArchSpec& arch,
                  ModelWeights& weights, const std::string& source);

// Random weights (normal std 0.02 like HF's init, norms at 1/0), owned by the returned buffer.
std::vector<float> bind_random_weights(const ModelConfig& config, const ArchSpec& arch,
                                       ModelWeights& weights, uint64_t seed);

}  // namespace headmap
