#include "engine/architecture.h"

#include "headmap/error.hpp"

namespace headmap {
namespace {

constexpr ArchSpec kGpt2{
    .model_type = "gpt2",
    .norm_placement = NormPlacement::PreLN,
    .weight_layout = WeightLayout::InOut,
    .causal = true,
    .name_prefixes = {"", "transformer."},
    .legacy_suffixes = {},
    .names =
        {
            .token_embedding = "wte.weight",
            .position_embedding = "wpe.weight",
            .qkv_weight = "h.{L}.attn.c_attn.weight",
            .qkv_bias = "h.{L}.attn.c_attn.bias",
            .attn_out_weight = "h.{L}.attn.c_proj.weight",
            .attn_out_bias = "h.{L}.attn.c_proj.bias",
            .attn_norm_weight = "h.{L}.ln_1.weight",
            .attn_norm_bias = "h.{L}.ln_1.bias",
            .mlp_in_weight = "h.{L}.mlp.c_fc.weight",
            .mlp_in_bias = "h.{L}.mlp.c_fc.bias",
            .mlp_out_weight = "h.{L}.mlp.c_proj.weight",
            .mlp_out_bias = "h.{L}.mlp.c_proj.bias",
            .mlp_norm_weight = "h.{L}.ln_2.weight",
            .mlp_norm_bias = "h.{L}.ln_2.bias",
            .final_norm_weight = "ln_f.weight",
            .final_norm_bias = "ln_f.bias",
        },
};

// BERT and RoBERTa share tensor names; they differ in the prefix of task checkpoints
// (BertForMaskedLM "bert.", RobertaForMaskedLM "roberta.") and in position ids (config.cpp).
constexpr TensorNames kBertNames{
    .token_embedding = "embeddings.word_embeddings.weight",
    .position_embedding = "embeddings.position_embeddings.weight",
    .token_type_embedding = "embeddings.token_type_embeddings.weight",
    .embed_norm_weight = "embeddings.LayerNorm.weight",
    .embed_norm_bias = "embeddings.LayerNorm.bias",
    .q_weight = "encoder.layer.{L}.attention.self.query.weight",
    .q_bias = "encoder.layer.{L}.attention.self.query.bias",
    .k_weight = "encoder.layer.{L}.attention.self.key.weight",
    .k_bias = "encoder.layer.{L}.attention.self.key.bias",
    .v_weight = "encoder.layer.{L}.attention.self.value.weight",
    .v_bias = "encoder.layer.{L}.attention.self.value.bias",
    .attn_out_weight = "encoder.layer.{L}.attention.output.dense.weight",
    .attn_out_bias = "encoder.layer.{L}.attention.output.dense.bias",
    .attn_norm_weight = "encoder.layer.{L}.attention.output.LayerNorm.weight",
    .attn_norm_bias = "encoder.layer.{L}.attention.output.LayerNorm.bias",
    .mlp_in_weight = "encoder.layer.{L}.intermediate.dense.weight",
    .mlp_in_bias = "encoder.layer.{L}.intermediate.dense.bias",
    .mlp_out_weight = "encoder.layer.{L}.output.dense.weight",
    .mlp_out_bias = "encoder.layer.{L}.output.dense.bias",
    .mlp_norm_weight = "encoder.layer.{L}.output.LayerNorm.weight",
    .mlp_norm_bias = "encoder.layer.{L}.output.LayerNorm.bias",
};

constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kLayerNormGammaBeta{{
    {"LayerNorm.weight", "LayerNorm.gamma"},
    {"LayerNorm.bias", "LayerNorm.beta"},
}};

constexpr ArchSpec kBert{
    .model_type = "bert",
    .norm_placement = NormPlacement::PostLN,
    .weight_layout = WeightLayout::OutIn,
    .causal = false,
    .name_prefixes = {"", "bert."},
    .legacy_suffixes = kLayerNormGammaBeta,
    .names = kBertNames,
};

constexpr ArchSpec kRoberta{
    .model_type = "roberta",
    .norm_placement = NormPlacement::PostLN,
    .weight_layout = WeightLayout::OutIn,
    .causal = false,
    .name_prefixes = {"", "roberta."},
    .legacy_suffixes = kLayerNormGammaBeta,
    .names = kBertNames,
};

constexpr ArchSpec kDistilBert{
    .model_type = "distilbert",
    .norm_placement = NormPlacement::PostLN,
    .weight_layout = WeightLayout::OutIn,
    .causal = false,
    .name_prefixes = {"", "distilbert."},
    .legacy_suffixes = {},
    .names =
        {
            .token_embedding = "embeddings.word_embeddings.weight",
            .position_embedding = "embeddings.position_embeddings.weight",
            .embed_norm_weight = "embeddings.LayerNorm.weight",
            .embed_norm_bias = "embeddings.LayerNorm.bias",
            .q_weight = "transformer.layer.{L}.attention.q_lin.weight",
            .q_bias = "transformer.layer.{L}.attention.q_lin.bias",
            .k_weight = "transformer.layer.{L}.attention.k_lin.weight",
            .k_bias = "transformer.layer.{L}.attention.k_lin.bias",
            .v_weight = "transformer.layer.{L}.attention.v_lin.weight",
            .v_bias = "transformer.layer.{L}.attention.v_lin.bias",
            .attn_out_weight = "transformer.layer.{L}.attention.out_lin.weight",
            .attn_out_bias = "transformer.layer.{L}.attention.out_lin.bias",
            .attn_norm_weight = "transformer.layer.{L}.sa_layer_norm.weight",
            .attn_norm_bias = "transformer.layer.{L}.sa_layer_norm.bias",
            .mlp_in_weight = "transformer.layer.{L}.ffn.lin1.weight",
            .mlp_in_bias = "transformer.layer.{L}.ffn.lin1.bias",
            .mlp_out_weight = "transformer.layer.{L}.ffn.lin2.weight",
            .mlp_out_bias = "transformer.layer.{L}.ffn.lin2.bias",
            .mlp_norm_weight = "transformer.layer.{L}.output_layer_norm.weight",
            .mlp_norm_bias = "transformer.layer.{L}.output_layer_norm.bias",
        },
};

constexpr const ArchSpec* kArchitectures[] = {&kGpt2, &kBert, &kRoberta, &kDistilBert};

}  // namespace

std::string known_model_types() {
    std::string list;
    const size_t n = std::size(kArchitectures);
    for (size_t i = 0; i < n; ++i) {
        if (i) list += i + 1 == n ? " or " : ", ";
        list += kArchitectures[i]->model_type;
    }
    return list;
}

const ArchSpec& arch_for(std::string_view model_type) {
    for (const ArchSpec* spec : kArchitectures)
        if (spec->model_type == model_type) return *spec;
    throw Error("unsupported model_type '" + std::string(model_type) + "' (expected " +
                known_model_types() + ")");
}

std::string tensor_name(std::string_view name_template, int layer) {
    std::string name(name_template);
    if (auto at = name.find("{L}"); at != std::string::npos)
        name.replace(at, 3, std::to_string(layer));
    return name;
}

}  // namespace headmap
