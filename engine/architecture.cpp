#include "engine/architecture.h"

#include "engine/error.h"

namespace headmap {
namespace {

constexpr ArchSpec kGpt2{
    .model_type = "gpt2",
    .norm_placement = NormPlacement::PreLN,
    .weight_layout = WeightLayout::InOut,
    .causal = true,
    .name_prefixes = {"", "transformer."},
    .names =
        {
            .token_embedding = "wte.weight",
            .position_embedding = "wpe.weight",
            .attn_norm_weight = "h.{L}.ln_1.weight",
            .attn_norm_bias = "h.{L}.ln_1.bias",
            .qkv_weight = "h.{L}.attn.c_attn.weight",
            .qkv_bias = "h.{L}.attn.c_attn.bias",
            .attn_out_weight = "h.{L}.attn.c_proj.weight",
            .attn_out_bias = "h.{L}.attn.c_proj.bias",
            .mlp_norm_weight = "h.{L}.ln_2.weight",
            .mlp_norm_bias = "h.{L}.ln_2.bias",
            .mlp_in_weight = "h.{L}.mlp.c_fc.weight",
            .mlp_in_bias = "h.{L}.mlp.c_fc.bias",
            .mlp_out_weight = "h.{L}.mlp.c_proj.weight",
            .mlp_out_bias = "h.{L}.mlp.c_proj.bias",
            .final_norm_weight = "ln_f.weight",
            .final_norm_bias = "ln_f.bias",
        },
};

constexpr const ArchSpec* kArchitectures[] = {&kGpt2};

}  // namespace

const ArchSpec& arch_for(std::string_view model_type) {
    for (const ArchSpec* spec : kArchitectures)
        if (spec->model_type == model_type) return *spec;
    throw Error("unsupported model_type '" + std::string(model_type) + "' (expected gpt2)");
}

std::string tensor_name(std::string_view name_template, int layer) {
    std::string name(name_template);
    if (auto at = name.find("{L}"); at != std::string::npos)
        name.replace(at, 3, std::to_string(layer));
    return name;
}

}  // namespace headmap
