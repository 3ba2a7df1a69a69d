// Fuzz target: a model's config.json (engine/config.cpp). A config that parses must give an
// architecture, a tensor count and archive limits, and must read back equal from the config.json
// text headmap writes for it (model_config_json).
#include <cstdint>
#include <string>

#include "engine/architecture.h"
#include "engine/config.h"
#include "engine/model_weights.h"
#include "engine/safetensors.h"
#include "fuzz_support.h"
#include "json_mutator.h"

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
    return fuzz::mutate_json_input(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    headmap::ModelConfig config;
    try {
        config = headmap::parse_model_config(fuzz::text_of(data, size), "config.json");
    } catch (const headmap::Error&) {
        return 0;
    }
    if (config.n_layer < 1 || config.n_head < 1 || config.d_model < 1 || config.d_ff < 1 ||
        config.vocab_size < 1 || config.max_tokens() < 1 || config.d_model % config.n_head != 0)
        fuzz::broken("a config outside the checked ranges");
    if (!(config.norm_eps >= 1.17549435e-38f && config.norm_eps < 1.0f))
        fuzz::broken("a norm epsilon that is 0, denormal or 1");
    try {
        const headmap::ArchSpec& arch = headmap::arch_for(config.model_type);
        const size_t weights = headmap::weight_tensor_count(config, arch);
        const headmap::SafetensorsLimits limits = headmap::model_archive_limits(weights, "fuzz");
        if (limits.max_tensors < 1 || limits.max_header_bytes > headmap::kMaxHeaderBytes)
            fuzz::broken("archive limits out of range");
        (void)headmap::forward_flops(config, 1, true);
        const headmap::ModelConfig again =
            headmap::parse_model_config(headmap::model_config_json(config), "written");
        if (again.model_type != config.model_type || again.n_layer != config.n_layer ||
            again.n_head != config.n_head || again.d_model != config.d_model ||
            again.d_ff != config.d_ff || again.max_positions != config.max_positions ||
            again.vocab_size != config.vocab_size ||
            again.type_vocab_size != config.type_vocab_size || again.norm_eps != config.norm_eps ||
            again.activation != config.activation ||
            again.position_offset != config.position_offset ||
            again.position_pad_id != config.position_pad_id)
            fuzz::broken("model_config_json does not read back equal");
    } catch (const headmap::Error&) {
        fuzz::broken("a parsed config that the rest of the engine refuses");
    }
    return 0;
}
