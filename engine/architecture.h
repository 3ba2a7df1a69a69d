// The architecture table: what differs between transformer families, expressed as data
// (tensor names, norm placement, weight layout, masking, embeddings), so one forward pass
// serves them all.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "kernels/types.h"

namespace headmap {

// PreLN (GPT-2): x += f(norm(x)) for each sublayer, then a final norm.
// PostLN (BERT): x = norm(x + f(x)) for each sublayer; no final norm.
enum class NormPlacement { PreLN, PostLN };

// Tensor-name templates; "{L}" is replaced by the layer index. An empty name means the
// architecture has no such tensor.
//   attn_norm: the norm of the attention sublayer (before it in PreLN, after it in PostLN);
//   mlp_norm:  the norm of the MLP sublayer (likewise).
// Q, K and V come either fused (qkv_*) or as three projections (q_*, k_*, v_*), which the
// loader packs into one fused (3C, C) matrix so the forward pass runs a single GEMM.
struct TensorNames {
    std::string_view token_embedding{};
    std::string_view position_embedding{};
    std::string_view token_type_embedding{};
    std::string_view embed_norm_weight{}, embed_norm_bias{};  // norm applied to the embedding sum
    std::string_view qkv_weight{}, qkv_bias{};
    std::string_view q_weight{}, q_bias{}, k_weight{}, k_bias{}, v_weight{}, v_bias{};
    std::string_view attn_out_weight{}, attn_out_bias{};
    std::string_view attn_norm_weight{}, attn_norm_bias{};
    std::string_view mlp_in_weight{}, mlp_in_bias{};
    std::string_view mlp_out_weight{}, mlp_out_bias{};
    std::string_view mlp_norm_weight{}, mlp_norm_bias{};
    std::string_view final_norm_weight{}, final_norm_bias{};
};

struct ArchSpec {
    std::string_view model_type;
    NormPlacement norm_placement;
    WeightLayout weight_layout;
    bool causal;
    // Checkpoints store names with any of these prefixes (tried in order), e.g. distilgpt2
    // and GPT2LMHeadModel checkpoints use "transformer.", BertForMaskedLM "bert.".
    std::array<std::string_view, 2> name_prefixes;
    // Old checkpoints spell some names differently (TF-era BERT: LayerNorm.gamma/beta); when a
    // name ending in .first is missing, the same name ending in .second is tried.
    std::array<std::pair<std::string_view, std::string_view>, 2> legacy_suffixes;
    TensorNames names;
};

// Throws headmap::Error for an unknown model_type.
const ArchSpec& arch_for(std::string_view model_type);

// The model_types arch_for knows, for messages: "gpt2, bert, roberta or distilbert".
std::string known_model_types();

// Expands "{L}" in a template.
std::string tensor_name(std::string_view name_template, int layer);

}  // namespace headmap
