#include "engine/config.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "engine/architecture.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"

namespace headmap {
namespace {

using nlohmann::json;

// Reads an integer field that must be present and positive.
int required_positive_int(const json& config, const char* key, const std::string& source) {
    auto it = config.find(key);
    if (it == config.end() || !it->is_number_integer())
        throw Error(source + ": field '" + key + "' missing or not an integer");
    int64_t value = it->get<int64_t>();
    if (value <= 0 || value > (1 << 24))
        throw Error(source + ": field '" + key + "' = " + std::to_string(value) +
                    " out of range (expected 1.." + std::to_string(1 << 24) + ")");
    return static_cast<int>(value);
}

Activation parse_activation(const std::string& name, const std::string& field,
                            const std::string& source) {
    // gelu_new, gelu_fast and gelu_pytorch_tanh are the same tanh approximation.
    if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh")
        return Activation::GeluTanh;
    if (name == "gelu") return Activation::GeluErf;
    throw Error(source + ": unsupported " + field + " '" + name +
                "' (expected gelu, gelu_new, gelu_pytorch_tanh or gelu_fast)");
}

// An optional string field, `fallback` when absent.
std::string optional_string(const json& config, const char* key, const std::string& fallback,
                            const std::string& source) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_string()) throw Error(source + ": field '" + key + "' must be a string");
    return it->get<std::string>();
}

// A flag that changes the computation: a non-boolean value (the string "false", say) would be
// read as the default in silence, so it is an error.
bool optional_bool(const json& config, const char* key, bool fallback, const std::string& source) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw Error(source + ": field '" + key + "' must be true or false");
    return it->get<bool>();
}

// The range is checked on the float the forward pass will use, not on the JSON number: 1e-50 is
// in (0, 1) as a double but becomes 0.0f (and 1e-40 a denormal, 0.99999999999 exactly 1.0f), and
// a zero or denormal epsilon lets a constant row's variance divide by ~0.
float optional_eps(const json& config, const char* key, float fallback, const std::string& source) {
    auto it = config.find(key);
    if (it == config.end()) return fallback;
    // Converted only once inside (0, 1): a double past float's range does not convert.
    const double number = it->is_number() ? it->get<double>() : 0.0;
    const float value = number > 0 && number < 1 ? static_cast<float>(number) : 0.0f;
    if (!(value >= std::numeric_limits<float>::min() && value < 1.0f))
        throw Error(source + ": field '" + key + "' = " + it->dump() +
                    " must be a positive number below 1 that a float holds without rounding to "
                    "0, a denormal or 1 (1.2e-38 .. 0.99999994)");
    return value;
}

int optional_int(const json& config, const char* key, int fallback, int min, int max,
                 const std::string& source) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max)
        throw Error(source + ": field '" + key + "' must be an integer in " + std::to_string(min) +
                    ".." + std::to_string(max));
    return int(it->get<int64_t>());
}

void check_heads_divide(const ModelConfig& c, const std::string& source) {
    if (c.d_model % c.n_head != 0)
        throw Error(source + ": hidden size " + std::to_string(c.d_model) +
                    " is not divisible by the number of heads " + std::to_string(c.n_head));
}

ModelConfig parse_gpt2(const json& config, const std::string& source) {
    ModelConfig c;
    c.model_type = "gpt2";
    c.n_layer = required_positive_int(config, "n_layer", source);
    c.n_head = required_positive_int(config, "n_head", source);
    c.d_model = required_positive_int(config, "n_embd", source);
    c.max_positions = required_positive_int(config, "n_positions", source);
    c.vocab_size = required_positive_int(config, "vocab_size", source);
    if (auto it = config.find("n_inner"); it != config.end() && !it->is_null()) {
        c.d_ff = required_positive_int(config, "n_inner", source);
    } else {
        // GPT-2's default, held to the range a given n_inner has (found by fuzzing: n_embd 2^24
        // gave 2^26 here, which the config.json headmap writes could not read back).
        const int64_t derived = 4 * int64_t(c.d_model);
        if (derived > (1 << 24))
            throw Error(source + ": field 'n_inner' absent, and its default 4 * n_embd = " +
                        std::to_string(derived) + " is out of range (expected 1.." +
                        std::to_string(1 << 24) + "; give n_inner)");
        c.d_ff = int(derived);
    }
    c.norm_eps = optional_eps(config, "layer_norm_epsilon", 1e-5f, source);
    c.activation =
        parse_activation(optional_string(config, "activation_function", "gelu_new", source),
                         "activation_function", source);
    // Variants that change the attention scores are refused rather than silently mis-computed.
    if (!optional_bool(config, "scale_attn_weights", true, source))
        throw Error(source + ": scale_attn_weights=false is not supported (expected true)");
    if (optional_bool(config, "scale_attn_by_inverse_layer_idx", false, source))
        throw Error(source +
                    ": scale_attn_by_inverse_layer_idx=true is not supported (expected false)");
    check_heads_divide(c, source);
    return c;
}

// BERT and RoBERTa (BertConfig / RobertaConfig field names).
ModelConfig parse_bert(const json& config, const std::string& model_type,
                       const std::string& source) {
    ModelConfig c;
    c.model_type = model_type;
    c.n_layer = required_positive_int(config, "num_hidden_layers", source);
    c.n_head = required_positive_int(config, "num_attention_heads", source);
    c.d_model = required_positive_int(config, "hidden_size", source);
    c.d_ff = required_positive_int(config, "intermediate_size", source);
    c.max_positions = required_positive_int(config, "max_position_embeddings", source);
    c.vocab_size = required_positive_int(config, "vocab_size", source);
    c.type_vocab_size = optional_int(config, "type_vocab_size", 2, 0, 1 << 16, source);
    c.norm_eps = optional_eps(config, "layer_norm_eps", 1e-12f, source);
    c.activation = parse_activation(optional_string(config, "hidden_act", "gelu", source),
                                    "hidden_act", source);
    const std::string positions =
        optional_string(config, "position_embedding_type", "absolute", source);
    if (positions != "absolute")
        throw Error(source + ": position_embedding_type '" + positions +
                    "' is not supported (expected absolute)");
    if (optional_bool(config, "is_decoder", false, source))
        throw Error(source + ": is_decoder=true is not supported (expected an encoder)");
    if (model_type == "roberta") {
        // RoBERTa's position ids start after the padding index
        // (create_position_ids_from_input_ids).
        const int pad = optional_int(config, "pad_token_id", 1, 0, 1 << 24, source);
        c.position_pad_id = pad;
        c.position_offset = pad + 1;
        if (c.max_tokens() < 1)
            throw Error(source + ": max_position_embeddings " + std::to_string(c.max_positions) +
                        " leaves no positions after pad_token_id " + std::to_string(pad) + " + 1");
    }
    check_heads_divide(c, source);
    return c;
}

ModelConfig parse_distilbert(const json& config, const std::string& source) {
    ModelConfig c;
    c.model_type = "distilbert";
    c.n_layer = required_positive_int(config, "n_layers", source);
    c.n_head = required_positive_int(config, "n_heads", source);
    c.d_model = required_positive_int(config, "dim", source);
    c.d_ff = required_positive_int(config, "hidden_dim", source);
    c.max_positions = required_positive_int(config, "max_position_embeddings", source);
    c.vocab_size = required_positive_int(config, "vocab_size", source);
    c.type_vocab_size = 0;
    c.norm_eps = 1e-12f;  // DistilBERT's LayerNorms hard-code eps=1e-12
    c.activation = parse_activation(optional_string(config, "activation", "gelu", source),
                                    "activation", source);
    check_heads_divide(c, source);
    return c;
}

}  // namespace

ModelConfig parse_model_config(std::string_view json_text, const std::string& source) {
    json config = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded()) throw Error(source + ": not valid JSON");
    if (!config.is_object()) throw Error(source + ": expected a JSON object");
    auto type = config.find("model_type");
    if (type == config.end() || !type->is_string())
        throw Error(source + ": field 'model_type' missing or not a string");
    const std::string model_type = type->get<std::string>();
    if (model_type == "gpt2") return parse_gpt2(config, source);
    if (model_type == "bert" || model_type == "roberta")
        return parse_bert(config, model_type, source);
    if (model_type == "distilbert") return parse_distilbert(config, source);
    throw Error(source + ": unsupported model_type '" + model_type + "' (expected " +
                known_model_types() + ")");
}

ModelConfig load_model_config(const std::filesystem::path& config_json) {
    std::string why;
    const std::optional<std::string> text = read_regular_file(config_json, why);
    if (!text)
        throw Error("cannot read " + config_json.string() + ": " + why +
                    " (expected the model's config.json)");
    return parse_model_config(*text, config_json.string());
}

std::string model_config_json(const ModelConfig& c) {
    const char* activation = c.activation == Activation::GeluTanh ? "gelu_new" : "gelu";
    json j;
    if (c.model_type == "gpt2") {
        j = {{"model_type", "gpt2"},
             {"architectures", {"GPT2LMHeadModel"}},
             {"n_layer", c.n_layer},
             {"n_head", c.n_head},
             {"n_embd", c.d_model},
             {"n_inner", c.d_ff},
             {"n_positions", c.max_positions},
             {"n_ctx", c.max_positions},
             {"vocab_size", c.vocab_size},
             {"layer_norm_epsilon", c.norm_eps},
             {"activation_function", activation}};
    } else if (c.model_type == "bert" || c.model_type == "roberta") {
        j = {{"model_type", c.model_type},
             {"architectures", {c.model_type == "bert" ? "BertModel" : "RobertaModel"}},
             {"num_hidden_layers", c.n_layer},
             {"num_attention_heads", c.n_head},
             {"hidden_size", c.d_model},
             {"intermediate_size", c.d_ff},
             {"max_position_embeddings", c.max_positions},
             {"vocab_size", c.vocab_size},
             {"type_vocab_size", c.type_vocab_size},
             {"layer_norm_eps", c.norm_eps},
             {"hidden_act", activation},
             {"position_embedding_type", "absolute"}};
        if (c.model_type == "roberta")
            j["pad_token_id"] = c.position_pad_id, j["bos_token_id"] = 0, j["eos_token_id"] = 2;
    } else if (c.model_type == "distilbert") {
        j = {{"model_type", "distilbert"},
             {"architectures", {"DistilBertModel"}},
             {"n_layers", c.n_layer},
             {"n_heads", c.n_head},
             {"dim", c.d_model},
             {"hidden_dim", c.d_ff},
             {"max_position_embeddings", c.max_positions},
             {"vocab_size", c.vocab_size},
             {"activation", activation},
             {"sinusoidal_pos_embds", false}};
    } else {
        throw Error("no config.json writer for model_type '" + c.model_type + "'");
    }
    return j.dump(2) + "\n";
}

namespace {

struct Preset {
    const char* name;
    const char* model_type;
    int n_layer, n_head, d_model, d_ff, max_positions, vocab_size, type_vocab_size;
};

// The published shapes of the models the benchmark stands in for.
constexpr Preset kPresets[] = {
    {"gpt2", "gpt2", 12, 12, 768, 3072, 1024, 50257, 0},
    {"gpt2-medium", "gpt2", 24, 16, 1024, 4096, 1024, 50257, 0},
    {"bert-base", "bert", 12, 12, 768, 3072, 512, 30522, 2},
    {"bert-large", "bert", 24, 16, 1024, 4096, 512, 30522, 2},
    {"minilm", "bert", 6, 12, 384, 1536, 512, 30522, 2},
    {"roberta-base", "roberta", 12, 12, 768, 3072, 514, 50265, 1},
    {"distilbert-base", "distilbert", 6, 12, 768, 3072, 512, 30522, 0},
};

}  // namespace

std::string preset_names() {
    std::string list;
    const size_t n = std::size(kPresets);
    for (size_t i = 0; i < n; ++i) {
        if (i) list += i + 1 == n ? " or " : ", ";
        list += kPresets[i].name;
    }
    return list;
}

ModelConfig preset_config(std::string_view name) {
    for (const Preset& p : kPresets) {
        if (name != p.name) continue;
        ModelConfig c;
        c.model_type = p.model_type;
        c.n_layer = p.n_layer, c.n_head = p.n_head, c.d_model = p.d_model, c.d_ff = p.d_ff;
        c.max_positions = p.max_positions, c.vocab_size = p.vocab_size;
        c.type_vocab_size = p.type_vocab_size;
        const bool gpt2 = c.model_type == "gpt2";
        c.norm_eps = gpt2 ? 1e-5f : 1e-12f;
        c.activation = gpt2 ? Activation::GeluTanh : Activation::GeluErf;
        if (c.model_type == "roberta")
            c.norm_eps = 1e-5f, c.position_pad_id = 1, c.position_offset = 2;
        return c;
    }
    throw Error("unknown config '" + std::string(name) + "' (expected " + preset_names() + ")");
}

double forward_flops(const ModelConfig& c, int seq, bool causal) {
    const double S = seq, C = c.d_model, F = c.d_ff;
    const double projections = 2 * S * C * (3 * C) + 2 * S * C * C + 2 * S * C * F * 2;
    const double attended = causal ? S * (S + 1) / 2 : S * S;  // query-key pairs per head
    const double attention = 2 * 2 * C * attended;             // QK^T and PV over all heads
    return c.n_layer * (projections + attention);
}

}  // namespace headmap
