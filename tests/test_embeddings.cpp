// The embedding kernel: token + position (+ token type) rows, and how each family numbers
// positions (GPT-2/BERT from 0, RoBERTa after the padding index, skipping padding tokens).
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "kernels/cpu/ops.h"

using namespace headmap;

namespace {

std::vector<float> random_table(int rows, int C, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> table(size_t(rows) * C);
    for (float& v : table) v = normal(rng);
    return table;
}

const float* row(const std::vector<float>& table, int r, int C) {
    return &table[size_t(r) * C];
}

}  // namespace

TEST_CASE("embed: token + position rows, positions from 0, fast equals reference") {
    const int V = 50, P = 40, C = 24;
    const auto tok = random_table(V, C, 1), pos = random_table(P, C, 2);
    const std::vector<int32_t> ids = {7, 0, 49, 7, 12};
    const EmbeddingTables tables{.token = tok, .position = pos};
    std::vector<float> fast(ids.size() * C), ref(ids.size() * C);
    cpu::embed(fast, tables, ids, {}, C);
    reference::embed(ref, tables, ids, {}, C);
    for (size_t s = 0; s < ids.size(); ++s)
        for (int c = 0; c < C; ++c) {
            const float want = row(tok, ids[s], C)[c] + row(pos, int(s), C)[c];
            CHECK(fast[s * C + c] == want);
            CHECK(ref[s * C + c] == doctest::Approx(want).epsilon(1e-6));
        }
}

TEST_CASE("embed: token types add their row; empty type ids mean type 0") {
    const int V = 30, P = 16, T = 2, C = 8;
    const auto tok = random_table(V, C, 3), pos = random_table(P, C, 4),
               type = random_table(T, C, 5);
    const std::vector<int32_t> ids = {1, 2, 3, 4}, types = {0, 0, 1, 1};
    const EmbeddingTables tables{.token = tok, .position = pos, .token_type = type};
    std::vector<float> with_types(ids.size() * C), without(ids.size() * C), ref(ids.size() * C);
    cpu::embed(with_types, tables, ids, types, C);
    cpu::embed(without, tables, ids, {}, C);
    reference::embed(ref, tables, ids, types, C);
    for (size_t s = 0; s < ids.size(); ++s)
        for (int c = 0; c < C; ++c) {
            const float base = row(tok, ids[s], C)[c];
            CHECK(with_types[s * C + c] ==
                  (base + row(type, types[s], C)[c]) + row(pos, int(s), C)[c]);
            CHECK(without[s * C + c] == (base + row(type, 0, C)[c]) + row(pos, int(s), C)[c]);
            CHECK(ref[s * C + c] == doctest::Approx(with_types[s * C + c]).epsilon(1e-6));
        }
}

TEST_CASE("embed: RoBERTa positions start after the padding index and skip padding tokens") {
    const int V = 20, P = 12, C = 4, pad = 1;
    const auto tok = random_table(V, C, 6), pos = random_table(P, C, 7);
    // <s> a <pad> b </s>: positions 2, 3, 1 (the pad row), 4, 5.
    const std::vector<int32_t> ids = {0, 9, pad, 10, 2};
    const std::vector<int> want_positions = {2, 3, 1, 4, 5};
    const EmbeddingTables tables{
        .token = tok, .position = pos, .position_offset = pad + 1, .position_pad_id = pad};
    std::vector<float> fast(ids.size() * C), ref(ids.size() * C);
    cpu::embed(fast, tables, ids, {}, C);
    reference::embed(ref, tables, ids, {}, C);
    for (size_t s = 0; s < ids.size(); ++s)
        for (int c = 0; c < C; ++c) {
            const float want = row(tok, ids[s], C)[c] + row(pos, want_positions[s], C)[c];
            CHECK(fast[s * C + c] == want);
            CHECK(ref[s * C + c] == doctest::Approx(want).epsilon(1e-6));
        }
}
