// Tests for config.json parsing (engine/config.h): values are checked as the forward pass will use
// them, after conversion to float.
#include <doctest/doctest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/architecture.h"
#include "engine/config.h"
#include "engine/model_weights.h"
#include "headmap/error.hpp"
#include "test_support.h"

using namespace headmap;
using nlohmann::json;

namespace {

json config_of(const std::string& fixture) {
    return json::parse(test_support::read_file(test_support::kTestData / fixture / "config.json"));
}

std::string error_of(const json& config) {
    try {
        parse_model_config(config.dump(), "dir/config.json");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    FAIL("expected headmap::Error for ", config.dump());
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a norm epsilon that a float rounds to 0, a denormal or 1 is refused") {
    for (const auto& [fixture, key] :
         {std::pair{"gpt2-tiny", "layer_norm_epsilon"}, std::pair{"bert-tiny", "layer_norm_eps"},
          std::pair{"roberta-tiny", "layer_norm_eps"}}) {
        CAPTURE(fixture);
        json config = config_of(fixture);
        // Bad as doubles already, and bad only once converted to float.
        for (const json& bad :
             {json(1e-50), json(1e-40), json(1e-45), json(0.9999999999), json(0.0), json(-1e-5),
              json(1.0), json(1e300), json("1e-5"), json(nullptr), json(true)}) {
            CAPTURE(bad.dump());
            config[key] = bad;
            const std::string message = error_of(config);
            CHECK(contains(message, "dir/config.json"));
            CHECK(contains(message, key));
            CHECK(contains(message, bad.dump()));
        }
        // The smallest normal float and the largest float below 1 are fine.
        config[key] = double(std::numeric_limits<float>::min());
        CHECK(parse_model_config(config.dump(), "c").norm_eps == std::numeric_limits<float>::min());
        config[key] = 0.99999994;
        CHECK(parse_model_config(config.dump(), "c").norm_eps < 1.0f);
        config[key] = 1e-12;
        CHECK(parse_model_config(config.dump(), "c").norm_eps == 1e-12f);
    }
}

TEST_CASE("weight_tensor_count is weight_slots' length, counted without building it") {
    for (const char* name : {"gpt2", "bert-base", "minilm", "roberta-base", "distilbert-base"}) {
        CAPTURE(name);
        const ModelConfig config = preset_config(name);
        const ArchSpec& arch = arch_for(config.model_type);
        ModelWeights weights;
        CHECK(weight_tensor_count(config, arch) == weight_slots(config, arch, weights).size());
    }
    CHECK(weight_tensor_count(preset_config("gpt2"), arch_for("gpt2")) == 4 + 12 * 12);
    // A config that claims 2^24 layers is counted, not laid out.
    ModelConfig huge = preset_config("gpt2");
    huge.n_layer = 1 << 24;
    CHECK(weight_tensor_count(huge, arch_for("gpt2")) == 4 + 12 * (size_t(1) << 24));
}

TEST_CASE("GPT-2's default n_inner (4 * n_embd) is held to the range a given one has") {
    json config = config_of("gpt2-tiny");
    config.erase("n_inner");
    config["n_embd"] = 1 << 22;  // 4 * 2^22 = 2^24: the largest allowed
    config["n_head"] = 4;
    CHECK(parse_model_config(config.dump(), "c").d_ff == 1 << 24);
    // The fuzzing finding: n_embd 2^24 derived 2^26, which model_config_json wrote as n_inner and
    // parse_model_config then refused.
    config["n_embd"] = 1 << 24;
    const std::string message = error_of(config);
    CHECK(contains(message, "dir/config.json"));
    CHECK(contains(message, "'n_inner' absent"));
    CHECK(contains(message, "67108864"));
    config["n_inner"] = 3072;  // given, it is its own value
    CHECK(parse_model_config(config.dump(), "c").d_ff == 3072);
}
