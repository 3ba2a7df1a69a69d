// Word-level maps (engine/analysis/words.h): the merge against hand-computed values and a naive loop, its
// invariants, and the grouping against Hugging Face's word_ids() (tests/data/words/, made by
// tools/reference/make_word_fixtures.py) for GPT-2, BERT and RoBERTa token strings.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/tokenizer_dir.h"
#include "engine/analysis/words.h"
#include "headmap/error.hpp"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

using namespace headmap;
using namespace headmap::words;
using test_support::kSourceDir;
using test_support::kTestData;

namespace {

using Json = nlohmann::json;

// The merge rule written as plainly as possible, in double: mean over rows of word a of the sum
// over columns of word b. Works for any word_of_token, runs or not.
std::vector<double> naive_merge(const std::vector<float>& maps, int n_maps, int seq,
                                const std::vector<int>& word_of_token, int n_words) {
    std::vector<double> out(size_t(n_maps) * size_t(n_words) * size_t(n_words), 0.0);
    for (int m = 0; m < n_maps; ++m)
        for (int a = 0; a < n_words; ++a)
            for (int b = 0; b < n_words; ++b) {
                double total = 0;
                int rows = 0;
                for (int i = 0; i < seq; ++i) {
                    if (word_of_token[size_t(i)] != a) continue;
                    ++rows;
                    for (int j = 0; j < seq; ++j)
                        if (word_of_token[size_t(j)] == b)
                            total += maps[(size_t(m) * size_t(seq) + size_t(i)) * size_t(seq) +
                                          size_t(j)];
                }
                out[(size_t(m) * size_t(n_words) + size_t(a)) * size_t(n_words) + size_t(b)] =
                    total / rows;
            }
    return out;
}

// n_maps random softmax rows (S, S); causal ones are zero above the diagonal.
std::vector<float> random_maps(int n_maps, int seq, bool causal, std::mt19937& rng) {
    std::uniform_real_distribution<float> logit(-4.0f, 4.0f);
    std::vector<float> maps(size_t(n_maps) * size_t(seq) * size_t(seq), 0.0f);
    for (int m = 0; m < n_maps; ++m)
        for (int i = 0; i < seq; ++i) {
            float* row = maps.data() + (size_t(m) * size_t(seq) + size_t(i)) * size_t(seq);
            const int keys = causal ? i + 1 : seq;
            double sum = 0;
            for (int j = 0; j < keys; ++j) sum += row[j] = std::exp(logit(rng));
            for (int j = 0; j < keys; ++j) row[j] = float(row[j] / sum);
        }
    return maps;
}

// Random runs: each token after the first starts a new word with probability 0.4.
std::vector<int> random_runs(int seq, std::mt19937& rng) {
    std::bernoulli_distribution new_word(0.4);
    std::vector<int> word_of_token(size_t(seq), 0);
    for (int t = 1; t < seq; ++t)
        word_of_token[size_t(t)] = word_of_token[size_t(t) - 1] + (new_word(rng) ? 1 : 0);
    return word_of_token;
}

// HF's word_ids as runs numbered from 0: a token with word_id null is a word of its own; other
// tokens share a word when they have the same (sequence_id, word_id) as the token before.
std::vector<int> hf_words(const Json& c) {
    std::vector<int> words;
    const Json& word_ids = c["word_ids"];
    const Json& sequence_ids = c["sequence_ids"];
    for (size_t t = 0; t < word_ids.size(); ++t) {
        const bool same = t > 0 && !word_ids[t].is_null() && word_ids[t] == word_ids[t - 1] &&
                          sequence_ids[t] == sequence_ids[t - 1];
        words.push_back(t == 0 ? 0 : words.back() + (same ? 0 : 1));
    }
    return words;
}

// Index of the pair's second text (its first token with sequence id 1), else -1.
int pair_boundary(const Json& c) {
    const Json& sequence_ids = c["sequence_ids"];
    for (size_t t = 0; t < sequence_ids.size(); ++t)
        if (sequence_ids[t] == 1) return int(t);
    return -1;
}

Json load_fixture(const std::string& kind) {
    const Json doc =
        Json::parse(test_support::read_file(kTestData / "words" / (kind + "_words.json")));
    REQUIRE(doc["cases"].size() >= 15);
    return doc;
}

std::vector<std::string> tokens_of(const Json& c) {
    return c["tokens"].get<std::vector<std::string>>();
}

const Json* find_case(const Json& doc, const std::string& text) {
    for (const Json& c : doc["cases"])
        if (c["text"] == text && !c.contains("pair")) return &c;
    FAIL("no fixture case for ", text);
    return nullptr;
}

}  // namespace

TEST_CASE("merge: a 4x4 map into 3 words, by hand") {
    // Non-causal map, words {0}, {1, 2}, {3}.
    const std::vector<float> map = {
        0.1f,  0.2f,  0.3f,  0.4f,   // row 0
        0.4f,  0.3f,  0.2f,  0.1f,   // row 1
        0.25f, 0.25f, 0.25f, 0.25f,  // row 2
        0.0f,  0.5f,  0.5f,  0.0f,   // row 3
    };
    const std::vector<float> merged = merge_words(map, 1, 4, std::vector<int>{0, 1, 1, 2}, 3);
    // Word 0 gives row 0: [0.1, 0.2 + 0.3, 0.4].
    // Word 1 gives the mean of rows 1 and 2: [0.4, 0.5, 0.1] and [0.25, 0.5, 0.25]
    //   -> [0.325, 0.5, 0.175].
    // Word 2 gives row 3: [0.0, 0.5 + 0.5, 0.0].
    const std::vector<float> expected = {0.1f,   0.5f, 0.4f,    //
                                         0.325f, 0.5f, 0.175f,  //
                                         0.0f,   1.0f, 0.0f};
    REQUIRE(merged.size() == expected.size());
    for (size_t k = 0; k < expected.size(); ++k) CHECK(merged[k] == doctest::Approx(expected[k]));
}

TEST_CASE("merge: a causal 4x4 map stays causal, by hand") {
    // Causal map, words {0, 1}, {2}, {3}.
    const std::vector<float> map = {
        1.0f, 0.0f, 0.0f, 0.0f,  // row 0
        0.5f, 0.5f, 0.0f, 0.0f,  // row 1
        0.2f, 0.3f, 0.5f, 0.0f,  // row 2
        0.1f, 0.2f, 0.3f, 0.4f,  // row 3
    };
    const std::vector<float> merged = merge_words(map, 1, 4, std::vector<int>{0, 0, 1, 2}, 3);
    // Word 0 gives the mean of rows 0 and 1 summed over columns 0-1: (1 + 1) / 2 = 1, then 0, 0.
    // Word 1 gives row 2: [0.2 + 0.3, 0.5, 0]. Word 2 gives row 3: [0.1 + 0.2, 0.3, 0.4].
    const std::vector<float> expected = {1.0f, 0.0f, 0.0f,  //
                                         0.5f, 0.5f, 0.0f,  //
                                         0.3f, 0.3f, 0.4f};
    REQUIRE(merged.size() == expected.size());
    for (size_t k = 0; k < expected.size(); ++k) CHECK(merged[k] == doctest::Approx(expected[k]));
    CHECK(merged[1] == 0.0f);  // exactly zero above the diagonal
    CHECK(merged[2] == 0.0f);
    CHECK(merged[5] == 0.0f);
}

TEST_CASE("merge: random maps equal the naive loop; rows sum to 1; causal stays causal") {
    std::mt19937 rng(20261123);
    for (const bool causal : {false, true})
        for (const int seq : {1, 2, 7, 33, 64}) {
            const int n_maps = 3;
            const std::vector<float> maps = random_maps(n_maps, seq, causal, rng);
            const std::vector<int> word_of_token = random_runs(seq, rng);
            const int n_words = word_of_token.back() + 1;
            const std::vector<float> merged =
                merge_words(maps, n_maps, seq, word_of_token, n_words);
            const std::vector<double> naive =
                naive_merge(maps, n_maps, seq, word_of_token, n_words);
            INFO("seq ", seq, " words ", n_words, " causal ", causal);
            REQUIRE(merged.size() == naive.size());
            double worst = 0, worst_row = 0;
            int upper_nonzero = 0;
            for (size_t k = 0; k < naive.size(); ++k)
                worst = std::max(worst, std::fabs(double(merged[k]) - naive[k]));
            for (int m = 0; m < n_maps; ++m)
                for (int a = 0; a < n_words; ++a) {
                    double sum = 0;
                    for (int b = 0; b < n_words; ++b) {
                        const float v =
                            merged[(size_t(m) * size_t(n_words) + size_t(a)) * size_t(n_words) +
                                   size_t(b)];
                        sum += v;
                        if (b > a && v != 0.0f) ++upper_nonzero;
                    }
                    worst_row = std::max(worst_row, std::fabs(sum - 1.0));
                }
            CHECK(worst <= 1e-6);
            CHECK(worst_row <= 1e-5);
            if (causal) CHECK(upper_nonzero == 0);
            if (!causal && n_words > 1) CHECK(merged[1] > 0.0f);  // the non-causal check can fail
        }
}

TEST_CASE("merge: one word per token is the identity; merge_words_into reuses a buffer") {
    std::mt19937 rng(7);
    const std::vector<float> maps = random_maps(2, 9, false, rng);
    std::vector<int> identity(9);
    for (int t = 0; t < 9; ++t) identity[size_t(t)] = t;
    CHECK(merge_words(maps, 2, 9, identity, 9) == maps);
    std::vector<float> out(2 * 1 * 1, -5.0f);
    merge_words_into(maps, 2, 9, std::vector<int>(9, 0), 1, out);
    CHECK(out[0] == doctest::Approx(1.0));  // one word: the whole row, averaged over all rows
    CHECK(out[1] == doctest::Approx(1.0));
}

TEST_CASE("merge: bad word_of_token and sizes are errors") {
    const std::vector<float> map(16, 0.25f);
    CHECK_THROWS_AS(merge_words(map, 1, 4, std::vector<int>{0, 2, 2, 3}, 4), Error);  // gap
    CHECK_THROWS_AS(merge_words(map, 1, 4, std::vector<int>{0, 1, 0, 1}, 2), Error);  // not runs
    CHECK_THROWS_AS(merge_words(map, 1, 4, std::vector<int>{1, 1, 2, 2}, 3), Error);  // not from 0
    CHECK_THROWS_AS(merge_words(map, 1, 4, std::vector<int>{0, 0, 1, 1}, 3), Error);  // count
    CHECK_THROWS_AS(merge_words(map, 1, 4, std::vector<int>{0, 0, 1}, 2), Error);     // size
    CHECK_THROWS_AS(merge_words(map, 2, 4, std::vector<int>{0, 0, 1, 1}, 2), Error);  // values
    std::vector<float> small(3);
    CHECK_THROWS_AS(merge_words_into(map, 1, 4, std::vector<int>{0, 0, 1, 1}, 2, small), Error);
    CHECK_THROWS_WITH_AS(merge_words(map, 1, 4, std::vector<int>{0, 1, 0, 1}, 2),
                         doctest::Contains("runs of consecutive tokens"), Error);
}

TEST_CASE("grouping equals Hugging Face word_ids on GPT-2, BERT and RoBERTa tokens") {
    const std::vector<std::pair<std::string, TokenFamily>> kinds = {
        {"gpt2", TokenFamily::ByteLevel},
        {"bert", TokenFamily::WordPiece},
        {"roberta", TokenFamily::ByteLevel}};
    for (const auto& [kind, family] : kinds) {
        const Json doc = load_fixture(kind);
        int merged_somewhere = 0;
        for (const Json& c : doc["cases"]) {
            const std::vector<std::string> tokens = tokens_of(c);
            const std::vector<int> expected = hf_words(c);
            INFO(kind, ": ", c["text"].get<std::string>(), " | ", c.value("pair", ""));
            const WordGroups groups = group_words(tokens, family, pair_boundary(c));
            CHECK(groups.word_of_token == expected);
            CHECK(groups.count() == expected.back() + 1);
            if (groups.count() < int(tokens.size())) ++merged_somewhere;
            // Saved maps infer the family from the token strings; the words must not change.
            CHECK(group_words(tokens, infer_family(tokens), pair_boundary(c)).word_of_token ==
                  expected);
        }
        CHECK(merged_somewhere >= 5);  // the fixture does exercise multi-token words
    }
}

TEST_CASE("the family inferred from token strings") {
    const Json bert = load_fixture("bert");  // named: a temporary would die before the loop
    for (const Json& c : bert["cases"])
        CHECK(infer_family(tokens_of(c)) == TokenFamily::WordPiece);  // [CLS] in every case
    for (const std::string kind : {"gpt2", "roberta"}) {
        const Json doc = load_fixture(kind);
        CHECK(infer_family(tokens_of(*find_case(doc, "Several   spaces    here"))) ==
              TokenFamily::ByteLevel);
        CHECK(infer_family(tokens_of(
                  *find_case(doc, "tokenization unbelievably antidisestablishmentarianism"))) ==
              TokenFamily::ByteLevel);
    }
    const std::vector<std::string> hashes = {"##", "Ġ###", "Ġtitle"};  // GPT-2 markdown heading
    CHECK(infer_family(hashes) == TokenFamily::ByteLevel);
    const std::vector<std::string> continuation = {"play", "##ing"};
    CHECK(infer_family(continuation) == TokenFamily::WordPiece);
    const std::vector<std::string> endoftext = {"a", "<|endoftext|>"};
    CHECK(infer_family(endoftext) == TokenFamily::ByteLevel);
    const std::vector<std::string> plain = {"a", "b", "c"};
    CHECK(infer_family(plain) == TokenFamily::WordPiece);
    CHECK(family_of_model_type("gpt2") == TokenFamily::ByteLevel);
    CHECK(family_of_model_type("roberta") == TokenFamily::ByteLevel);
    CHECK(family_of_model_type("bert") == TokenFamily::WordPiece);
    CHECK(family_of_model_type("distilbert") == TokenFamily::WordPiece);
    CHECK_THROWS_WITH_AS(family_of_model_type("llama"), doctest::Contains("llama"), Error);
}

TEST_CASE("word labels: pieces joined, ## dropped, the first piece's Ġ kept") {
    const Json bert = load_fixture("bert");
    const WordGroups b = group_words(
        tokens_of(*find_case(bert, "tokenization unbelievably antidisestablishmentarianism")),
        TokenFamily::WordPiece);
    CHECK(b.labels == std::vector<std::string>{"[CLS]", "tokenization", "unbelievably",
                                               "antidisestablishmentarianism", "[SEP]"});
    const Json gpt2 = load_fixture("gpt2");
    const WordGroups g = group_words(
        tokens_of(*find_case(gpt2, "emoji \U0001F600\U0001F389 and \U0001F44D\U0001F3FD thumbs")),
        TokenFamily::ByteLevel);
    REQUIRE(g.count() == 5);
    CHECK(g.labels[0] == "emoji");
    CHECK(gpt2_token_bytes(g.labels[1]) == " \U0001F600\U0001F389");  // whole characters again
    CHECK(g.labels[2] == "\u0120and");                                // 'Ġand'
    const WordGroups spaces = group_words(tokens_of(*find_case(gpt2, "Several   spaces    here")),
                                          TokenFamily::ByteLevel);
    CHECK(spaces.labels == std::vector<std::string>{"Several", "\u0120\u0120", "\u0120spaces",
                                                    "\u0120\u0120\u0120", "\u0120here"});
}

TEST_CASE("headmap's tokenizers give the fixture's tokens, so model maps group the same") {
    struct Kind {
        std::string name, model_type;
        std::filesystem::path dir;
    };
    const std::vector<Kind> kinds = {{"gpt2", "gpt2", kSourceDir / "weights" / "gpt2"},
                                     {"bert", "bert", kSourceDir / "weights" / "bert-base-uncased"},
                                     {"roberta", "roberta", kTestData / "roberta-tiny"}};
    for (const Kind& kind : kinds) {
        const Tokenizer tokenizer = load_tokenizer_dir(kind.dir, kind.model_type);
        const Json doc = load_fixture(kind.name);
        for (const Json& c : doc["cases"]) {
            const std::string text = c["text"].get<std::string>();
            const Encoding e = c.contains("pair")
                                   ? tokenizer.encode_pair(text, c["pair"].get<std::string>())
                                   : tokenizer.encode(text);
            std::vector<std::string> tokens;
            for (int32_t id : e.ids) tokens.push_back(tokenizer.token_string(id));
            INFO(kind.name, ": ", text);
            CHECK(tokens == tokens_of(c));
            CHECK(group_words(tokens, family_of_model_type(kind.model_type), pair_boundary(c))
                      .word_of_token == hf_words(c));
        }
    }
}

TEST_CASE("byte-level grouping survives cut characters, empty and odd tokens") {
    // "Ġa", then a smiley cut after its second byte (as truncation can leave it), then "Ġb".
    // ('Ł' U+0141 stands for byte 0x9F: " \xF0\x9F" is a 4-byte character's first half.)
    const std::vector<std::string> cut = {"\u0120a", "\u0120\u00f0\u0141", "\u0120b"};
    CHECK(group_words(cut, TokenFamily::ByteLevel).word_of_token == std::vector<int>{0, 1, 2});
    // A whole smiley over two tokens ('ĠðŁĺ' 'Ģ'), then a cut one at the end of the list.
    const std::vector<std::string> end_cut = {"\u0120\u00f0\u0141\u013a", "\u0122",
                                              "\u0120\u00f0\u0141"};
    CHECK(group_words(end_cut, TokenFamily::ByteLevel).word_of_token == std::vector<int>{0, 0, 1});
    // Not valid UTF-8 at all, and empty tokens: still runs, nothing read out of bounds.
    const std::vector<std::string> odd = {"", "\xff\xfe", "x", "", "\u0120y", ""};
    const WordGroups g = group_words(odd, TokenFamily::ByteLevel);
    REQUIRE(g.word_of_token.size() == odd.size());
    for (size_t t = 1; t < odd.size(); ++t) CHECK(g.word_of_token[t] - g.word_of_token[t - 1] >= 0);
    CHECK(g.word_of_token.back() == g.count() - 1);
    CHECK(g.word_of_token[4] != g.word_of_token[2]);  // "Ġy" starts a word
    // A forced boundary splits what the bytes would join ("Hello" + "world").
    const std::vector<std::string> pair = {"Hello", "world"};
    CHECK(group_words(pair, TokenFamily::ByteLevel).count() == 1);
    CHECK(group_words(pair, TokenFamily::ByteLevel, 1).count() == 2);
    // WordPiece: "##" after a special token or at the start begins a word.
    const std::vector<std::string> wp = {"##a", "[CLS]", "##b", "c", "##d"};
    CHECK(group_words(wp, TokenFamily::WordPiece).word_of_token == std::vector<int>{0, 1, 2, 3, 3});
    CHECK(group_words(std::vector<std::string>{}, TokenFamily::ByteLevel).count() == 0);
}
