#include "engine/model_weights.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/safetensors.h"
#include "headmap/error.hpp"

namespace headmap {

std::vector<WeightSlot> weight_slots(const ModelConfig& config, const ArchSpec& arch,
                                     ModelWeights& weights) {
    const int64_t C = config.d_model, F = config.d_ff, V = config.vocab_size,
                  P = config.max_positions;
    const auto matrix = [&](int64_t in, int64_t out) {
        return arch.weight_layout == WeightLayout::InOut ? std::vector<int64_t>{in, out}
                                                         : std::vector<int64_t>{out, in};
    };
    using Init = WeightSlot::Init;
    const TensorNames& n = arch.names;
    std::vector<WeightSlot> slots;
    slots.push_back(
        {tensor_name(n.token_embedding, 0), {V, C}, &weights.token_embedding, Init::Normal});
    slots.push_back(
        {tensor_name(n.position_embedding, 0), {P, C}, &weights.position_embedding, Init::Normal});
    if (!n.token_type_embedding.empty())
        slots.push_back({tensor_name(n.token_type_embedding, 0),
                         {config.type_vocab_size, C},
                         &weights.token_type_embedding,
                         Init::Normal});
    if (!n.embed_norm_weight.empty()) {
        slots.push_back(
            {tensor_name(n.embed_norm_weight, 0), {C}, &weights.embed_norm_weight, Init::Ones});
        slots.push_back(
            {tensor_name(n.embed_norm_bias, 0), {C}, &weights.embed_norm_bias, Init::Zeros});
    }
    weights.layers.assign(size_t(config.n_layer), LayerWeights{});
    for (int l = 0; l < config.n_layer; ++l) {
        LayerWeights& w = weights.layers[size_t(l)];
        const auto add = [&](std::string_view name, std::vector<int64_t> shape,
                             std::span<const float>* dest, Init init) {
            slots.push_back({tensor_name(name, l), std::move(shape), dest, init});
        };
        const bool pre_norm = arch.norm_placement == NormPlacement::PreLN;
        if (pre_norm) {
            add(n.attn_norm_weight, {C}, &w.attn_norm_weight, Init::Ones);
            add(n.attn_norm_bias, {C}, &w.attn_norm_bias, Init::Zeros);
        }
        if (!n.qkv_weight.empty()) {
            add(n.qkv_weight, matrix(C, 3 * C), &w.qkv_weight, Init::Normal);
            add(n.qkv_bias, {3 * C}, &w.qkv_bias, Init::Zeros);
        } else {
            add(n.q_weight, matrix(C, C), &w.q_weight, Init::Normal);
            add(n.q_bias, {C}, &w.q_bias, Init::Zeros);
            add(n.k_weight, matrix(C, C), &w.k_weight, Init::Normal);
            add(n.k_bias, {C}, &w.k_bias, Init::Zeros);
            add(n.v_weight, matrix(C, C), &w.v_weight, Init::Normal);
            add(n.v_bias, {C}, &w.v_bias, Init::Zeros);
        }
        add(n.attn_out_weight, matrix(C, C), &w.attn_out_weight, Init::Normal);
        add(n.attn_out_bias, {C}, &w.attn_out_bias, Init::Zeros);
        if (!pre_norm) {
            add(n.attn_norm_weight, {C}, &w.attn_norm_weight, Init::Ones);
            add(n.attn_norm_bias, {C}, &w.attn_norm_bias, Init::Zeros);
        } else {
            add(n.mlp_norm_weight, {C}, &w.mlp_norm_weight, Init::Ones);
            add(n.mlp_norm_bias, {C}, &w.mlp_norm_bias, Init::Zeros);
        }
        add(n.mlp_in_weight, matrix(C, F), &w.mlp_in_weight, Init::Normal);
        add(n.mlp_in_bias, {F}, &w.mlp_in_bias, Init::Zeros);
        add(n.mlp_out_weight, matrix(F, C), &w.mlp_out_weight, Init::Normal);
        add(n.mlp_out_bias, {C}, &w.mlp_out_bias, Init::Zeros);
        if (!pre_norm) {
            add(n.mlp_norm_weight, {C}, &w.mlp_norm_weight, Init::Ones);
            add(n.mlp_norm_bias, {C}, &w.mlp_norm_bias, Init::Zeros);
        }
    }
    if (!n.final_norm_weight.empty()) {
        slots.push_back(
            {tensor_name(n.final_norm_weight, 0), {C}, &weights.final_norm_weight, Init::Ones});
        slots.push_back(
            {tensor_name(n.final_norm_bias, 0), {C}, &weights.final_norm_bias, Init::Zeros});
    }
    return slots;
}

size_t weight_tensor_count(const ModelConfig& config, const ArchSpec& arch) {
    // The list for no layer and for one: the fixed tensors and each layer's, from the same code
    // that binds them.
    ModelConfig probe = config;
    ModelWeights scratch;
    probe.n_layer = 0;
    const size_t fixed = weight_slots(probe, arch, scratch).size();
    probe.n_layer = 1;
    const size_t per_layer = weight_slots(probe, arch, scratch).size() - fixed;
    return fixed + per_layer * size_t(std::max(config.n_layer, 0));
}

void pack_qkv(const ModelConfig& config, const ArchSpec& arch, ModelWeights& weights) {
    if (!arch.names.qkv_weight.empty()) return;
    // Stacking (C, C) out-by-in matrices along the output dimension gives the (3C, C) fused
    // matrix whose output columns are Q | K | V, the layout the attention kernel reads.
    if (arch.weight_layout != WeightLayout::OutIn)
        throw Error("model_type " + config.model_type +
                    ": separate Q/K/V need (out, in) weights to be packed");
    const size_t C = size_t(config.d_model), per_layer = 3 * C * C + 3 * C;
    weights.packed_qkv.assign(per_layer * weights.layers.size(), 0.0f);
    float* out = weights.packed_qkv.data();
    for (LayerWeights& w : weights.layers) {
        float* weight = out;
        float* bias = out + 3 * C * C;
        const std::span<const float> parts[3][2] = {
            {w.q_weight, w.q_bias}, {w.k_weight, w.k_bias}, {w.v_weight, w.v_bias}};
        for (int p = 0; p < 3; ++p) {
            std::copy(parts[p][0].begin(), parts[p][0].end(), weight + p * C * C);
            std::copy(parts[p][1].begin(), parts[p][1].end(), bias + p * C);
        }
        w.qkv_weight = {weight, 3 * C * C};
        w.qkv_bias = {bias, 3 * C};
        out += per_layer;
    }
}

void bind_weights(WeightStore& store, const ModelConfig& config, const ArchSpec& arch,
                  ModelWeights& weights, const std::string& source) {
    // Every layer has tensors of its own: a layer count beyond the file's tensor count is wrong,
    // and is said before anything is sized from it (2^24 layers would build 200 M slot names).
    const size_t tensors = store.archive().tensors().size();
    if (size_t(config.n_layer) > tensors)
        throw Error(source + ": the config gives " + std::to_string(config.n_layer) +
                    " layers, but the weights hold only " + std::to_string(tensors) +
                    " tensors (expected several per layer)");
    std::vector<WeightSlot> slots = weight_slots(config, arch, weights);
    const std::string& probe = slots.front().name;
    std::string prefix;
    bool found = false;
    for (std::string_view candidate : arch.name_prefixes) {
        if (store.contains(std::string(candidate) + probe)) {
            prefix = candidate;
            found = true;
            break;
        }
    }
    if (!found) {
        std::string tried;
        for (std::string_view candidate : arch.name_prefixes)
            tried += (tried.empty() ? "'" : ", '") + std::string(candidate) + probe + "'";
        throw Error(source + ": tensor " + tried + " not found (expected for model_type " +
                    config.model_type + ")");
    }
    for (WeightSlot& slot : slots) {
        std::string name = prefix + slot.name;
        if (!store.contains(name)) {
            for (const auto& [modern, legacy] : arch.legacy_suffixes) {
                if (modern.empty() || !name.ends_with(modern)) continue;
                const std::string old_name =
                    name.substr(0, name.size() - modern.size()) + std::string(legacy);
                if (store.contains(old_name)) name = old_name;
            }
        }
        if (!store.contains(name))
            throw Error(source + ": tensor '" + name + "' not found (expected for model_type " +
                        config.model_type + ")");
        *slot.destination = store.get(name, slot.shape);
    }
    pack_qkv(config, arch, weights);
}

std::vector<float> bind_random_weights(const ModelConfig& config, const ArchSpec& arch,
                                       ModelWeights& weights, uint64_t seed) {
    std::vector<WeightSlot> slots = weight_slots(config, arch, weights);
    size_t total = 0;
    for (const WeightSlot& slot : slots) total += slot.numel();
    std::vector<float> storage(total);
    // A cheap generator: 124M parameters must not take seconds. Sum of 4 uniforms, scaled to
    // std 0.02, is close enough to normal for benchmarking and export tests.
    std::mt19937_64 rng(seed);
    size_t offset = 0;
    for (WeightSlot& slot : slots) {
        const size_t numel = slot.numel();
        float* data = storage.data() + offset;
        if (slot.init == WeightSlot::Init::Normal) {
            uint64_t state = rng();
            for (size_t i = 0; i < numel; ++i) {
                float sum = 0;
                for (int k = 0; k < 4; ++k) {
                    state = state * 6364136223846793005ull + 1442695040888963407ull;
                    sum += float(state >> 40) * (1.0f / 16777216.0f);
                }
                data[i] = (sum - 2.0f) * 0.02f * std::sqrt(3.0f);
            }
        } else {
            std::fill_n(data, numel, slot.init == WeightSlot::Init::Ones ? 1.0f : 0.0f);
        }
        *slot.destination = {data, numel};
        offset += numel;
    }
    pack_qkv(config, arch, weights);
    return storage;
}

}  // namespace headmap
