// Model hyper-parameters read from a Hugging Face config.json, and named presets for the
// benchmark. Architecture differences live in the ArchSpec table (architecture.h), not here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "kernels/types.h"

namespace headmap {

struct ModelConfig {
    std::string model_type;  // "gpt2", ...
    int n_layer = 0;
    int n_head = 0;
    int d_model = 0;        // n_embd / hidden_size
    int d_ff = 0;           // n_inner / intermediate_size
    int max_positions = 0;  // n_positions / max_position_embeddings
    int vocab_size = 0;
    float norm_eps = 1e-5f;
    Activation activation = Activation::GeluTanh;

    int head_dim() const { return d_model / n_head; }
};

// Parses and validates config.json; errors name the file and the field.
ModelConfig load_model_config(const std::filesystem::path& config_json);
ModelConfig parse_model_config(std::string_view json_text, const std::string& source_name);

// Named shapes for `headmap bench` and `headmap make-random`: gpt2 (124M), gpt2-medium.
ModelConfig preset_config(std::string_view name);

// Model FLOPs of one forward at sequence length `seq` over `layers` layers: the projections and
// MLP (2*S*C*N each) plus QK^T and PV counted over the attended entries only (the causal
// triangle for decoders). Embeddings, norms, softmax and any LM head are not counted.
// tools/reference/bench_hf.py uses the same formula.
double forward_flops(const ModelConfig& config, int seq, bool causal);

}  // namespace headmap
