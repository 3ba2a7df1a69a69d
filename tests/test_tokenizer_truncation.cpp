// Sentence-pair truncation (truncation=True, longest_first) against Hugging Face `tokenizers`:
// truncate_pair_lengths on every pair of lengths in tests/data/tokenizer/truncation_pairs.json
// (written by tools/reference/make_truncation_fixtures.py), and encode_pair with real vocabularies
// on some of them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_dir.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/truncation.h"

namespace {

namespace fs = std::filesystem;
using headmap::Encoding;
using headmap::load_tokenizer_dir;
using headmap::PairLengths;
using headmap::Tokenizer;
using headmap::truncate_pair_lengths;
using Json = nlohmann::json;

const fs::path kFixture = test_support::kTestData / "tokenizer" / "truncation_pairs.json";

const Json& fixture() {
    static const Json document = [] {
        const std::string text = test_support::read_file(kFixture);
        REQUIRE_MESSAGE(!text.empty(),
                        "missing fixture; run tools/reference/make_truncation_fixtures.py");
        return Json::parse(text);
    }();
    return document;
}

// The grid of one post-processor at one max_length: kept[first][second] as HF keeps them.
struct Grid {
    std::string post_processor;
    size_t max_length = 0, added = 0, budget = 0, longest = 0;
    std::vector<std::vector<PairLengths>> kept;
};

// A row is [kept first, kept second at second = 0, then (delta first, delta second, count)
// runs], each run stepping `second` by one `count` times (see the generator's docstring).
std::vector<PairLengths> decode_row(const Json& row) {
    std::vector<PairLengths> kept{{row.at(0).get<size_t>(), row.at(1).get<size_t>()}};
    for (size_t i = 2; i + 2 < row.size(); i += 3)
        for (int64_t n = 0; n < row[i + 2].get<int64_t>(); ++n)
            kept.push_back({size_t(int64_t(kept.back().first) + row[i].get<int64_t>()),
                            size_t(int64_t(kept.back().second) + row[i + 1].get<int64_t>())});
    return kept;
}

const std::vector<Grid>& grids() {
    static const std::vector<Grid> all = [] {
        std::vector<Grid> out;
        for (const Json& g : fixture().at("grids")) {
            Grid grid{g.at("post_processor"), g.at("max_length"),      g.at("added"),
                      g.at("budget"),         g.at("max_text_tokens"), {}};
            for (const Json& row : g.at("rows")) grid.kept.push_back(decode_row(row));
            out.push_back(std::move(grid));
        }
        return out;
    }();
    return all;
}

const Grid& grid(const std::string& post_processor, size_t max_length) {
    for (const Grid& g : grids())
        if (g.post_processor == post_processor && g.max_length == max_length) return g;
    FAIL("no grid ", post_processor, " at max_length ", max_length, " in ", kFixture.string());
    return grids().front();
}

// `n` one-token words: "w w w ..." (WordPiece and BPE alike give one token per such word).
std::string words(const std::string& word, size_t n) {
    std::string text;
    for (size_t i = 0; i < n; ++i) text += (i ? " " : "") + word;
    return text;
}

// Ids of `word`'s tokens, the special tokens left out: "a" and " a" differ in GPT-2's BPE.
std::set<int32_t> ids_of(const Tokenizer& tokenizer, const std::string& word) {
    const std::vector<int32_t> frame = tokenizer.encode("").ids;
    std::set<int32_t> ids;
    for (int32_t id : tokenizer.encode(word + " " + word).ids)
        if (std::find(frame.begin(), frame.end(), id) == frame.end()) ids.insert(id);
    return ids;
}

// How many tokens of each text an encoded pair of "a a ..." and "b b ..." kept.
PairLengths kept_in(const Encoding& encoding, const std::set<int32_t>& a,
                    const std::set<int32_t>& b) {
    PairLengths kept;
    for (int32_t id : encoding.ids) {
        kept.first += a.count(id);
        kept.second += b.count(id);
    }
    return kept;
}

}  // namespace

namespace headmap {
// For doctest's messages: "(255, 254)".
std::ostream& operator<<(std::ostream& out, const PairLengths& p) {
    return out << "(" << p.first << ", " << p.second << ")";
}
}  // namespace headmap

TEST_CASE("the fixture: grids over every pair of lengths, from a recorded tokenizers version") {
    CHECK(!fixture().at("tokenizers").get<std::string>().empty());
    // BERT at 512 positions (the budget), RoBERTa, and pairs without special tokens at
    // an even and an odd budget, each over lengths 0..512.
    struct Expected {
        const char* post_processor;
        size_t max_length, budget;
    };
    for (const Expected& e :
         {Expected{"bert", 512, 509}, Expected{"roberta", 512, 508}, Expected{"none", 512, 512},
          Expected{"none", 511, 511}, Expected{"bert", 64, 61}}) {
        const Grid& g = grid(e.post_processor, e.max_length);
        CAPTURE(e.post_processor);
        CAPTURE(e.max_length);
        CHECK(g.budget == e.budget);
        CHECK(g.budget + g.added == g.max_length);
        if (g.max_length >= 511) CHECK(g.longest == 512);
        REQUIRE(g.kept.size() == g.longest + 1);
        for (const std::vector<PairLengths>& row : g.kept) REQUIRE(row.size() == g.longest + 1);
    }
}

TEST_CASE("truncate_pair_lengths keeps what HF keeps for every pair of lengths in the fixture") {
    for (const Grid& g : grids()) {
        CAPTURE(g.post_processor);
        CAPTURE(g.max_length);
        size_t checked = 0, differing = 0;
        for (size_t first = 0; first < g.kept.size(); ++first) {
            for (size_t second = 0; second < g.kept[first].size(); ++second, ++checked) {
                const PairLengths got = truncate_pair_lengths(first, second, g.budget);
                if (got == g.kept[first][second]) continue;
                // The first few differences name themselves; a count says how many there are.
                if (++differing <= 5) {
                    CAPTURE(first);
                    CAPTURE(second);
                    CHECK(got == g.kept[first][second]);
                }
            }
        }
        CHECK(checked == (g.longest + 1) * (g.longest + 1));
        CHECK(differing == 0);
    }
}

TEST_CASE("truncate_pair_lengths: the cases that tell HF's rule from a token-at-a-time loop") {
    // The issue: 256 + 255 at BERT's 512 positions (509 for the texts). HF gives the odd token
    // to the longer text, the first here.
    CHECK(truncate_pair_lengths(256, 255, 509) == PairLengths{255, 254});
    CHECK(truncate_pair_lengths(255, 256, 509) == PairLengths{254, 255});
    // A tie gives it to the second text.
    CHECK(truncate_pair_lengths(300, 300, 509) == PairLengths{254, 255});
    CHECK(truncate_pair_lengths(300, 300, 508) == PairLengths{254, 254});
    // The shorter text is kept whole when the longer one can make room alone.
    CHECK(truncate_pair_lengths(500, 9, 509) == PairLengths{500, 9});
    CHECK(truncate_pair_lengths(501, 9, 509) == PairLengths{500, 9});
    CHECK(truncate_pair_lengths(9, 600, 509) == PairLengths{9, 500});
    CHECK(truncate_pair_lengths(0, 600, 509) == PairLengths{0, 509});
    CHECK(truncate_pair_lengths(600, 0, 509) == PairLengths{509, 0});
    // Both over the budget: halves, the longer text taking the odd token.
    CHECK(truncate_pair_lengths(700, 600, 509) == PairLengths{255, 254});
    CHECK(truncate_pair_lengths(0, 0, 0) == PairLengths{0, 0});
    CHECK(truncate_pair_lengths(3, 2, 1) == PairLengths{1, 0});
    CHECK(truncate_pair_lengths(2, 3, 1) == PairLengths{0, 1});
}

TEST_CASE("encode_pair keeps HF's lengths with real vocabularies, the frame intact") {
    struct Family {
        const char* model_type;
        fs::path dir;
        const char* post_processor;  // its grid in the fixture
        size_t max_length;
    };
    const fs::path bert_dir = test_support::kSourceDir / "weights" / "bert-base-uncased";
    const std::vector<Family> families = {
        {"bert", bert_dir, "bert", 512},
        {"bert", bert_dir, "bert", 64},
        {"roberta", test_support::kTestData / "roberta-tiny", "roberta", 512},
        {"gpt2", test_support::kGpt2Tokenizer, "none", 512},
        {"gpt2", test_support::kGpt2Tokenizer, "none", 511},
    };
    const std::vector<PairLengths> lengths = {{256, 255}, {255, 256}, {256, 256}, {300, 257},
                                              {512, 512}, {512, 3},   {3, 512},   {40, 31},
                                              {33, 32},   {0, 512},   {200, 100}, {10, 20}};
    for (const Family& family : families) {
        const Tokenizer tokenizer = load_tokenizer_dir(family.dir, family.model_type);
        const Grid& g = grid(family.post_processor, family.max_length);
        const std::set<int32_t> a = ids_of(tokenizer, "a"), b = ids_of(tokenizer, "b");
        for (const PairLengths& n : lengths) {
            CAPTURE(family.model_type);
            CAPTURE(family.max_length);
            CAPTURE(n);
            if (n.first > g.longest || n.second > g.longest) continue;
            const Encoding pair =
                tokenizer.encode_pair(words("a", n.first), words("b", n.second), g.max_length);
            const PairLengths kept = g.kept[n.first][n.second];
            CHECK(kept_in(pair, a, b) == kept);
            CHECK(pair.ids.size() == kept.first + kept.second + g.added);
            CHECK(pair.type_ids.size() == pair.ids.size());
        }
    }
    // The case word for word: 256 + 255 one-token words at 512 positions.
    const Tokenizer bert = load_tokenizer_dir(bert_dir, "bert");
    const Encoding cut = bert.encode_pair(words("hello", 256), words("world", 255), 512);
    REQUIRE(cut.ids.size() == 512);
    CHECK(std::count(cut.ids.begin(), cut.ids.end(), 7592) == 255);  // hello
    CHECK(std::count(cut.ids.begin(), cut.ids.end(), 2088) == 254);  // world
    CHECK(cut.ids[0] == 101);
    CHECK(cut.ids[256] == 102);  // [CLS], 255 x hello, [SEP]
    CHECK(cut.ids[511] == 102);
    CHECK(std::count(cut.type_ids.begin(), cut.type_ids.end(), 0) == 257);
}

TEST_CASE("a single text is still cut to what the special tokens leave") {
    const Tokenizer bert =
        load_tokenizer_dir(test_support::kSourceDir / "weights" / "bert-base-uncased", "bert");
    const Encoding cut = bert.encode(words("hello", 600), 512);
    REQUIRE(cut.ids.size() == 512);
    CHECK(cut.ids.front() == 101);
    CHECK(cut.ids.back() == 102);
    CHECK(std::count(cut.ids.begin(), cut.ids.end(), 7592) == 510);
    CHECK(bert.encode(words("hello", 510), 512).ids.size() == 512);
    CHECK(bert.encode(words("hello", 10), 512).ids.size() == 12);
    const Tokenizer gpt2 = load_tokenizer_dir(test_support::kGpt2Tokenizer, "gpt2");
    CHECK(gpt2.encode(words("a", 600), 511).ids.size() == 511);
    CHECK(gpt2.encode(words("a", 5), 511).ids.size() == 5);
}
