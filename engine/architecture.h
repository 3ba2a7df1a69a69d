// The architecture table: what differs between transformer families, expressed as data
// (tensor names, norm placement, weight layout, masking), so one forward pass serves them all.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "kernels/types.h"

namespace headmap {

enum class NormPlacement { PreLN, PostLN };

// Tensor-name templates; "{L}" is replaced by the layer index. An empty name means the
// architecture has no such tensor.
struct TensorNames {
    std::string_view token_embedding;
    std::string_view position_embedding;
    std::string_view attn_norm_weight, attn_norm_bias;
    std::string_view qkv_weight, qkv_bias;  // fused q|k|v projection
    std::string_view attn_out_weight, attn_out_bias;
    std::string_view mlp_norm_weight, mlp_norm_bias;
    std::string_view mlp_in_weight, mlp_in_bias;
    std::string_view mlp_out_weight, mlp_out_bias;
    std::string_view final_norm_weight, final_norm_bias;
};

struct ArchSpec {
    std::string_view model_type;
    NormPlacement norm_placement;
    WeightLayout weight_layout;
    bool causal;
    // Checkpoints store names with any of these prefixes (tried in order), e.g. distilgpt2
    // and GPT2LMHeadModel checkpoints use "transformer.".
    std::array<std::string_view, 2> name_prefixes;
    TensorNames names;
};

// Throws headmap::Error for an unknown model_type.
const ArchSpec& arch_for(std::string_view model_type);

// Expands "{L}" in a template.
std::string tensor_name(std::string_view name_template, int layer);

}  // namespace headmap
