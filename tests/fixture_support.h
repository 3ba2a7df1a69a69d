// Reading the forward-pass fixtures that tools/reference/make_*_fixtures.py write
// (expected.json + expected.safetensors) and running a case through the engine's ring.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "test_support.h"

namespace fixture {

struct Case {
    std::string name, text;
    std::optional<std::string> text_pair;
    std::vector<int32_t> ids, type_ids;
    bool ids_only = false;  // built by hand (no text to tokenize)
};

inline std::vector<Case> read_cases(const std::filesystem::path& dir) {
    const auto json = nlohmann::json::parse(test_support::read_file(dir / "expected.json"));
    std::vector<Case> cases;
    for (const auto& c : json.at("cases")) {
        Case one;
        one.name = c.at("name");
        one.text = c.value("text", "");
        if (c.contains("text_pair")) one.text_pair = c.at("text_pair").get<std::string>();
        one.ids = c.at("ids").get<std::vector<int32_t>>();
        if (c.contains("type_ids")) one.type_ids = c.at("type_ids").get<std::vector<int32_t>>();
        one.ids_only = c.value("ids_only", false);
        cases.push_back(std::move(one));
    }
    return cases;
}

inline float max_abs_diff(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    float worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

// Everything one forward sent through the ring, in order, plus the final hidden state.
struct Captured {
    std::vector<float> maps;  // (L, H, S, S)
    std::vector<int> layers;  // the layer of each slot, in arrival order
    std::vector<float> hidden;
    int layers_computed = 0;
};

inline Captured run_case(headmap::Engine& engine, std::span<const int32_t> ids,
                         std::span<const int32_t> type_ids, headmap::Backend backend) {
    Captured out;
    headmap::ForwardRequest request;
    request.ids = ids;
    request.type_ids = type_ids;
    request.hidden = true;
    request.backend = backend;
    const int64_t S = int64_t(ids.size());
    const headmap::ForwardResult result =
        engine.run(request, [&](const headmap::AttentionSlot& slot) {
            out.layers.push_back(slot.layer);
            CHECK(slot.seq_len == S);
            CHECK(slot.n_head == engine.config().n_head);
            out.maps.insert(out.maps.end(), slot.maps.begin(), slot.maps.end());
        });
    out.hidden.assign(result.hidden.begin(), result.hidden.end());
    out.layers_computed = result.layers_computed;
    return out;
}

// Rows of every map sum to 1 (within 1e-5); returns the number of rows checked.
inline int64_t check_rows_sum_to_one(std::span<const float> maps, int64_t S) {
    int64_t rows = 0;
    for (size_t at = 0; at + size_t(S) <= maps.size(); at += size_t(S), ++rows) {
        double sum = 0;
        for (int64_t j = 0; j < S; ++j) sum += maps[at + size_t(j)];
        CHECK(std::fabs(sum - 1.0) <= 1e-5);
    }
    return rows;
}

}  // namespace fixture
