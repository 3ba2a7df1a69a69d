#include "engine/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"

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

Activation parse_activation(const std::string& name, const std::string& source) {
    // gelu_new, gelu_fast and gelu_pytorch_tanh are the same tanh approximation.
    if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh")
        return Activation::GeluTanh;
    if (name == "gelu") return Activation::GeluErf;
    throw Error(source + ": unsupported activation_function '" + name +
                "' (expected gelu_new, gelu_pytorch_tanh, gelu_fast or gelu)");
}

ModelConfig parse_gpt2(const json& config, const std::string& source) {
    ModelConfig c;
    c.model_type = "gpt2";
    c.n_layer = required_positive_int(config, "n_layer", source);
    c.n_head = required_positive_int(config, "n_head", source);
    c.d_model = required_positive_int(config, "n_embd", source);
    c.max_positions = required_positive_int(config, "n_positions", source);
    c.vocab_size = required_positive_int(config, "vocab_size", source);
    c.d_ff = 4 * c.d_model;
    if (auto it = config.find("n_inner"); it != config.end() && !it->is_null())
        c.d_ff = required_positive_int(config, "n_inner", source);
    if (auto it = config.find("layer_norm_epsilon"); it != config.end()) {
        if (!it->is_number() || it->get<double>() <= 0)
            throw Error(source + ": field 'layer_norm_epsilon' must be a positive number");
        c.norm_eps = it->get<float>();
    }
    std::string activation = "gelu_new";
    if (auto it = config.find("activation_function"); it != config.end()) {
        if (!it->is_string())
            throw Error(source + ": field 'activation_function' must be a string");
        activation = it->get<std::string>();
    }
    c.activation = parse_activation(activation, source);
    // Variants that change the attention scores are refused rather than silently mis-computed.
    if (auto it = config.find("scale_attn_weights");
        it != config.end() && it->is_boolean() && !it->get<bool>())
        throw Error(source + ": scale_attn_weights=false is not supported (expected true)");
    if (auto it = config.find("scale_attn_by_inverse_layer_idx");
        it != config.end() && it->is_boolean() && it->get<bool>())
        throw Error(source +
                    ": scale_attn_by_inverse_layer_idx=true is not supported (expected false)");
    if (c.d_model % c.n_head != 0)
        throw Error(source + ": n_embd " + std::to_string(c.d_model) +
                    " is not divisible by n_head " + std::to_string(c.n_head));
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
    throw Error(source + ": unsupported model_type '" + model_type + "' (expected gpt2)");
}

ModelConfig load_model_config(const std::filesystem::path& config_json) {
    std::ifstream in(config_json, std::ios::binary);
    if (!in)
        throw Error("cannot read " + config_json.string() + " (expected the model's config.json)");
    std::stringstream text;
    text << in.rdbuf();
    return parse_model_config(text.str(), config_json.string());
}

ModelConfig preset_config(std::string_view name) {
    ModelConfig c;
    c.model_type = "gpt2";
    c.vocab_size = 50257;
    c.max_positions = 1024;
    c.activation = Activation::GeluTanh;
    if (name == "gpt2") {
        c.n_layer = 12, c.n_head = 12, c.d_model = 768;
    } else if (name == "gpt2-medium") {
        c.n_layer = 24, c.n_head = 16, c.d_model = 1024;
    } else {
        throw Error("unknown config '" + std::string(name) + "' (expected gpt2 or gpt2-medium)");
    }
    c.d_ff = 4 * c.d_model;
    return c;
}

double forward_flops(const ModelConfig& c, int seq, bool causal) {
    const double S = seq, C = c.d_model, F = c.d_ff;
    const double projections = 2 * S * C * (3 * C) + 2 * S * C * C + 2 * S * C * F * 2;
    const double attended = causal ? S * (S + 1) / 2 : S * S;  // query-key pairs per head
    const double attention = 2 * 2 * C * attended;             // QK^T and PV over all heads
    return c.n_layer * (projections + attention);
}

}  // namespace headmap
