// The forward pass against Hugging Face transformers: fixtures made by
// tools/reference/make_gpt2_fixtures.py (eager attention, output_attentions=True).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/safetensors.h"
#include "engine/tokenizer_dir.h"
#include "fixture_support.h"
#include "test_support.h"
#include "tokenizer/gpt2_bpe.h"

using namespace headmap;
using test_support::kTestData;

namespace {

using fixture::max_abs_diff;

// Runs every case of a fixture model on `backend`; compares maps (<= 1e-5) and hidden states.
void check_fixture(const std::string& model, Backend backend) {
    const std::filesystem::path dir = kTestData / model;
    Engine engine = Engine::load(dir, EngineOptions{.threads = 2, .ring_slots = 2, .max_seq = 0});
    const Gpt2Tokenizer tokenizer =
        Gpt2Tokenizer::from_files(read_tokenizer_files(test_support::kGpt2Tokenizer));
    const SafetensorsArchive expected = SafetensorsArchive::open(dir / "expected.safetensors");
    WeightStore expected_store(SafetensorsArchive::open(dir / "expected.safetensors"));
    const ModelConfig& config = engine.config();
    const std::vector<fixture::Case> cases = fixture::read_cases(dir);
    REQUIRE(cases.size() >= 6);
    for (const fixture::Case& c : cases) {
        CAPTURE(model);
        CAPTURE(c.name);
        CHECK(tokenizer.encode(c.text) == c.ids);
        const int64_t S = int64_t(c.ids.size()), L = config.n_layer, H = config.n_head;
        const fixture::Captured got = fixture::run_case(engine, c.ids, {}, backend);
        const std::vector<float>& maps = got.maps;
        const std::vector<int>& layers_seen = got.layers;
        CHECK(got.layers_computed == L);
        REQUIRE(layers_seen.size() == size_t(L));
        for (int l = 0; l < L; ++l) CHECK(layers_seen[size_t(l)] == l);

        const auto want_maps = expected_store.get(c.name + ".attentions", {L, H, S, S});
        const float map_error = max_abs_diff(maps, want_maps);
        CHECK(map_error <= 1e-5f);
        const auto want_hidden = expected_store.get(c.name + ".hidden", {S, config.d_model});
        CHECK(max_abs_diff(got.hidden, want_hidden) <= 5e-5f);

        // Invariants of a causal softmax map: rows sum to 1, the upper triangle is exactly 0.
        for (int64_t m = 0; m < L * H; ++m)
            for (int64_t i = 0; i < S; ++i) {
                const float* row = &maps[size_t((m * S + i) * S)];
                double sum = 0;
                for (int64_t j = 0; j < S; ++j) sum += row[j];
                CHECK(std::fabs(sum - 1.0) <= 1e-5);
                for (int64_t j = i + 1; j < S; ++j) REQUIRE(row[j] == 0.0f);
            }
    }
}

}  // namespace

TEST_CASE("gpt2-tiny (F32, no prefix, BOOL attn.bias buffers) matches HF, fast path") {
    check_fixture("gpt2-tiny", Backend::Fast);
}

TEST_CASE("distilgpt2-tiny (F16, transformer. prefix, sharded) matches HF, fast path") {
    check_fixture("distilgpt2-tiny", Backend::Fast);
}

TEST_CASE("both fixtures match HF on the plain-loop reference path") {
    check_fixture("gpt2-tiny", Backend::Reference);
    check_fixture("distilgpt2-tiny", Backend::Reference);
}

TEST_CASE("the fixtures' maps are discriminative, so the comparison means something") {
    WeightStore expected(
        SafetensorsArchive::open(kTestData / "gpt2-tiny" / "expected.safetensors"));
    const auto maps = expected.get("case6.attentions", {2, 3, 64, 64});
    // On the last rows (64 keys; uniform would give 1/64), the largest weight is far above uniform.
    double mean_row_max = 0;
    for (int m = 0; m < 6; ++m) {
        const float* row = &maps[size_t((m * 64 + 63) * 64)];
        mean_row_max += *std::max_element(row, row + 64) / 6.0;
    }
    CHECK(mean_row_max > 0.2);
}

TEST_CASE("engines made from one LoadedWeights share it and agree bit for bit") {
    // The C API's model handle loads the weights once (F16 converted; panels packed only when an
    // input needs them); each context's engine adds only its arena, ring and pool.
    const std::filesystem::path dir = kTestData / "distilgpt2-tiny";  // F16: converted at load
    const auto weights = LoadedWeights::load(dir, int64_t(1) << 30);
    REQUIRE(weights.use_count() == 1);
    Engine first = Engine::create(weights, EngineOptions{.threads = 2, .ring_slots = 2});
    Engine second = Engine::create(weights, EngineOptions{.threads = 1, .ring_slots = 3});
    CHECK(weights.use_count() == 3);
    CHECK(&first.weights() == &second.weights());
    CHECK(first.weights().layers[0].qkv_weight.data() ==
          second.weights().layers[0].qkv_weight.data());
    CHECK(first.packs_weights());
    CHECK(second.packs_weights());
    Engine alone = Engine::load(dir, EngineOptions{.threads = 2, .ring_slots = 2});
    CHECK(alone.weights().layers[0].qkv_weight.data() !=
          first.weights().layers[0].qkv_weight.data());
    for (const fixture::Case& c : fixture::read_cases(dir)) {
        CAPTURE(c.name);
        const fixture::Captured a = fixture::run_case(first, c.ids, {}, Backend::Fast);
        const fixture::Captured b = fixture::run_case(second, c.ids, {}, Backend::Fast);
        const fixture::Captured own = fixture::run_case(alone, c.ids, {}, Backend::Fast);
        CHECK(a.maps == b.maps);
        CHECK(a.maps == own.maps);
        CHECK(a.hidden == own.hidden);
    }
}
