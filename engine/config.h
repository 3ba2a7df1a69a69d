// Model hyper-parameters read from a Hugging Face config.json, and named presets for the
// benchmark. Architecture differences live in the ArchSpec table (architecture.h), not here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "kernels/types.h"

namespace headmap {

struct ModelConfig {
    std::string model_type;  // "gpt2", "bert", "roberta", "distilbert"
    int n_layer = 0;
    int n_head = 0;
    int d_model = 0;        // n_embd / hidden_size
    int d_ff = 0;           // n_inner / intermediate_size
    int max_positions = 0;  // rows of the position table (n_positions / max_position_embeddings)
    int vocab_size = 0;
    int type_vocab_size = 0;  // rows of the token-type table; 0: the model has none
    float norm_eps = 1e-5f;
    Activation activation = Activation::GeluTanh;
    // Position ids start at position_offset. RoBERTa starts at pad_token_id + 1 and gives
    // padding tokens the position pad_token_id without counting them (position_pad_id >= 0).
    int position_offset = 0;
    int position_pad_id = -1;

    int head_dim() const { return d_model / n_head; }
    // The longest sequence the position table covers.
    int max_tokens() const { return max_positions - position_offset; }
};

// Parses and validates config.json; errors name the file and the field.
ModelConfig load_model_config(const std::filesystem::path& config_json);
ModelConfig parse_model_config(std::string_view json_text, const std::string& source_name);

// config.json text in Hugging Face's field names for `config`'s model_type, as save_pretrained
// would write it; parse_model_config reads it back to an equal ModelConfig.
std::string model_config_json(const ModelConfig& config);

// Named shapes for `headmap bench` and `headmap make-random`: gpt2 (124M), gpt2-medium,
// bert-base (bert-base-uncased), minilm (all-MiniLM-L6-v2), roberta-base, distilbert-base.
ModelConfig preset_config(std::string_view name);
std::string preset_names();  // for messages

// Model FLOPs of one forward at sequence length `seq` over `layers` layers: the projections and
// MLP (2*S*C*N each) plus QK^T and PV counted over the attended entries only (the causal
// triangle for decoders). Embeddings, norms, softmax and any LM head are not counted.
// tools/reference/bench_hf.py uses the same formula.
double forward_flops(const ModelConfig& config, int seq, bool causal);

}  // namespace headmap
