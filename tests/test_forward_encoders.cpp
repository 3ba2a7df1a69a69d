// BERT-family encoders against Hugging Face transformers: tiny random BERT (both naming
// schemes, one F16), RoBERTa and DistilBERT made by tools/reference/make_bert_fixtures.py, and
// the real sentence-transformers/all-MiniLM-L6-v2 (weights from weights/fetch).
#include <doctest/doctest.h>

#include "engine/engine.h"
#include "engine/safetensors.h"
#include "engine/tokenizer_dir.h"
#include "fixture_support.h"
#include "headmap/error.hpp"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

using namespace headmap;
using test_support::kSourceDir;
using test_support::kTestData;

namespace {

const std::filesystem::path kMiniLM = kSourceDir / "weights" / "all-MiniLM-L6-v2";

// Runs every case of a fixture on `backend`: the tokenizer must give the fixture's ids, and the
// maps (<= 1e-5) and last hidden state must match HF's.
void check_encoder(const std::filesystem::path& model_dir,
                   const std::filesystem::path& expected_dir, Backend backend) {
    CAPTURE(model_dir);
    REQUIRE_MESSAGE(std::filesystem::exists(model_dir / "model.safetensors"),
                    "missing model weights; run weights/fetch");
    Engine engine =
        Engine::load(model_dir, EngineOptions{.threads = 2, .ring_slots = 2, .max_seq = 0});
    const ModelConfig& config = engine.config();
    const Tokenizer tokenizer = load_tokenizer_dir(model_dir, config.model_type);
    WeightStore expected(SafetensorsArchive::open(expected_dir / "expected.safetensors"));
    const std::vector<fixture::Case> cases = fixture::read_cases(expected_dir);
    REQUIRE(cases.size() >= 5);
    int pairs = 0;
    for (const fixture::Case& c : cases) {
        CAPTURE(c.name);
        if (!c.ids_only) {
            const Encoding encoding = c.text_pair ? tokenizer.encode_pair(c.text, *c.text_pair)
                                                  : tokenizer.encode(c.text);
            CHECK(encoding.ids == c.ids);
            // HF's DistilBERT and RoBERTa tokenizers return no (or all-zero) token types.
            if (config.model_type == "bert") CHECK(encoding.type_ids == c.type_ids);
            pairs += c.text_pair ? 1 : 0;
        }
        const int64_t S = int64_t(c.ids.size()), L = config.n_layer, H = config.n_head;
        const std::span<const int32_t> types = config.model_type == "bert"
                                                   ? std::span<const int32_t>(c.type_ids)
                                                   : std::span<const int32_t>();
        const fixture::Captured got = fixture::run_case(engine, c.ids, types, backend);
        CHECK(got.layers_computed == L);
        REQUIRE(got.layers.size() == size_t(L));
        for (int l = 0; l < L; ++l) CHECK(got.layers[size_t(l)] == l);
        const float map_error =
            fixture::max_abs_diff(got.maps, expected.get(c.name + ".attentions", {L, H, S, S}));
        CHECK(map_error <= 1e-5f);
        const float hidden_error = fixture::max_abs_diff(
            got.hidden, expected.get(c.name + ".hidden", {S, config.d_model}));
        CHECK(hidden_error <= 1e-4f);
        CHECK(fixture::check_rows_sum_to_one(got.maps, S) == L * H * S);
    }
    CHECK(pairs >= 1);
}

}  // namespace

TEST_CASE("bert-tiny: bert. prefix, LayerNorm.gamma/beta, cls heads ignored; matches HF") {
    check_encoder(kTestData / "bert-tiny", kTestData / "bert-tiny", Backend::Fast);
}

TEST_CASE("bert-tiny-f16: no prefix, F16 weights; matches HF") {
    check_encoder(kTestData / "bert-tiny-f16", kTestData / "bert-tiny-f16", Backend::Fast);
}

TEST_CASE("roberta-tiny: positions after the padding index, <s> A </s></s> B </s>; matches HF") {
    check_encoder(kTestData / "roberta-tiny", kTestData / "roberta-tiny", Backend::Fast);
}

TEST_CASE("distilbert-tiny: its own names, no token types; matches HF") {
    check_encoder(kTestData / "distilbert-tiny", kTestData / "distilbert-tiny", Backend::Fast);
}

TEST_CASE("encoders match HF on the plain-loop reference path too") {
    for (const char* model : {"bert-tiny", "bert-tiny-f16", "roberta-tiny", "distilbert-tiny"})
        check_encoder(kTestData / model, kTestData / model, Backend::Reference);
}

TEST_CASE("real all-MiniLM-L6-v2 matches HF on texts and a sentence pair") {
    check_encoder(kMiniLM, kTestData / "minilm-expected", Backend::Fast);
}

TEST_CASE("token type ids are checked: one per token, each within the model's types") {
    Engine engine = Engine::load(kTestData / "bert-tiny", EngineOptions{.threads = 1});
    const std::vector<int32_t> ids = {101, 7592, 102};
    const std::vector<int32_t> short_types = {0, 0}, bad_type = {0, 2, 0}, negative = {0, -1, 0};
    ForwardRequest request;
    request.ids = ids;
    const auto run_with = [&](std::span<const int32_t> types) {
        request.type_ids = types;
        return engine.run(request, [](const AttentionSlot&) {});
    };
    CHECK_THROWS_WITH_AS(run_with(short_types), doctest::Contains("one per token"), Error);
    CHECK_THROWS_WITH_AS(run_with(bad_type), doctest::Contains("token type id 2 out of range"),
                         Error);
    CHECK_THROWS_AS(run_with(negative), Error);
    // Type 1 gives a different result than type 0: the table is really read.
    const std::vector<int32_t> zeros = {0, 0, 0}, ones = {1, 1, 1};
    std::vector<float> first, second;
    request.type_ids = zeros;
    engine.run(request, [&](const AttentionSlot& s) {
        if (s.layer == 0) first.assign(s.maps.begin(), s.maps.end());
    });
    request.type_ids = ones;
    engine.run(request, [&](const AttentionSlot& s) {
        if (s.layer == 0) second.assign(s.maps.begin(), s.maps.end());
    });
    CHECK(fixture::max_abs_diff(first, second) > 1e-4f);
}
