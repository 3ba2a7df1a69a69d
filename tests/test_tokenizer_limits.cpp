// Tokenizer files and texts that try to make headmap crash or spend without bound (issue 15):
// ids past int32 in tokenizer.json, a vocabulary whose largest id is far past its size, JSON
// fields of the wrong type, the one-pass vocab.json reader against nlohmann, the added-token
// automaton against the plain scan it replaced, and truncation that encodes a long text chunk by
// chunk against encoding it whole.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "test_support.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/token_tables.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_support.h"

using namespace headmap;
using test_support::kSourceDir;
using test_support::kTestData;
using tokenizer_test::contains;
using tokenizer_test::error_message;

namespace {

const std::string kMerges = "#version: 0.2\na b\n";

// A GPT-2 tokenizer.json with the vocabulary {a, b, ab} and `added` as its added_tokens.
std::string gpt2_tokenizer_json(const std::string& added, const std::string& extra = "") {
    return R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
               "added_tokens": [)" +
           added + "]" + extra + "}";
}

std::string load_error(const std::string& tokenizer_json) {
    return error_message([&] {
        Gpt2Tokenizer::from_tokenizer_json({tokenizer_json, "dir/tokenizer.json"});
    });
}

}  // namespace

TEST_CASE("tokenizer.json: an added token id past int32 is an error, never a wrapped id") {
    // 4294967295 read as int32 was -1 (a write before the id table: SIGSEGV); 4294967297 was 1.
    for (const std::string id : {"4294967295", "4294967297", "2147483647", "-1", "1e3", "\"7\""}) {
        CAPTURE(id);
        const std::string message =
            load_error(gpt2_tokenizer_json(R"({"id": )" + id + R"(, "content": "<x>"})"));
        CHECK(contains(message, "'dir/tokenizer.json' added_tokens[0]"));
        CHECK(contains(message, "expected an integer in 0..2147483646"));
    }
    // The largest id that is allowed loads, and costs a sparse table, not 16 GB.
    const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::from_tokenizer_json(
        {gpt2_tokenizer_json(R"({"id": 2147483646, "content": "<x>"})"), "tokenizer.json"});
    CHECK(tokenizer.vocab_size() == 2147483647);
    CHECK(tokenizer.token_string(2147483646) == "<x>");
    CHECK(tokenizer.encode("ab<x>a") == std::vector<int32_t>{2, 2147483646, 0});
    CHECK_THROWS_AS(tokenizer.token_string(5), Error);  // an id no entry has
}

TEST_CASE("vocab.json: the table follows the entries, not the largest id") {
    tokenizer_test::ScratchDir dir("sparse_vocab");
    dir.write("vocab.json", R"({"a": 67108863, "b": 1, "ab": 2})");
    dir.write("merges.txt", kMerges);
    const Tokenizer tokenizer = load_tokenizer_dir(dir.path, "gpt2");
    CHECK(tokenizer.vocab_size() == 67108864);
    CHECK(tokenizer.token_string(67108863) == "a");
    // "Ġ" is not in this vocabulary: the space byte is dropped, as HF drops it.
    CHECK(tokenizer.encode("ab a").ids == std::vector<int32_t>{2, 67108863});
    // INT32_MAX itself would overflow "largest id + 1": refused with the file named.
    dir.write("vocab.json", R"({"a": 2147483647, "b": 1, "ab": 2})");
    const std::string message = error_message([&] { load_tokenizer_dir(dir.path, "gpt2"); });
    CHECK(contains(message, "vocab.json"));
    CHECK(contains(message, "token \"a\" has id 2147483647, expected an integer in 0.."));
}

TEST_CASE("tokenizer.json: fields of the wrong JSON type name the file, not nlohmann") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {gpt2_tokenizer_json("", R"(, "pre_tokenizer": [])"), "pre_tokenizer []"},
        {gpt2_tokenizer_json("", R"(, "pre_tokenizer": {"type": 3})"), "pre_tokenizer"},
        {gpt2_tokenizer_json("", R"(, "pre_tokenizer": {"type": "ByteLevel", "use_regex": 1})"),
         "\"use_regex\" is 1, expected true or false"},
        {R"({"model": {"vocab": {"a": 0}, "merges": [], "ignore_merges": "yes"}})",
         "\"ignore_merges\" is \"yes\", expected true or false"},
        {gpt2_tokenizer_json(R"({"id": 3, "content": "<x>", "lstrip": "no"})"),
         "\"lstrip\" is \"no\", expected true or false"},
        {gpt2_tokenizer_json("", R"(, "normalizer": 5)"), "normalizer 5"},
        {R"({"model": {"vocab": {"a": 0}, "merges": {}}})", "model.merges must be an array"},
        {R"({"model": {"vocab": {"a": 0}}, "added_tokens": 1})", "added_tokens must be an array"},
    };
    for (const auto& [json, expected] : cases) {
        CAPTURE(json);
        const std::string message = load_error(json);
        CHECK(contains(message, "'dir/tokenizer.json'"));
        CHECK(contains(message, expected));
        CHECK_FALSE(contains(message, "json.exception"));
    }
}

TEST_CASE("vocab.json: the one-pass reader agrees with nlohmann on the GPT-2 vocabulary") {
    const std::string text = test_support::read_file(test_support::kGpt2Tokenizer / "vocab.json");
    const TokenMap vocab = parse_vocab_json(text, "vocab.json");
    const nlohmann::json reference = nlohmann::json::parse(text);
    REQUIRE(vocab.size() == reference.size());
    for (const auto& [token, id] : reference.items()) {
        const int32_t* found = vocab.find(token);
        REQUIRE(found != nullptr);
        CHECK(*found == id.get<int32_t>());
    }
}

TEST_CASE("vocab.json: escapes, repeats and malformed files") {
    const TokenMap vocab = parse_vocab_json(
        "{\"\\u00e9\\ud83d\\ude00\": 1, \"q\\\"\\\\\\/\\n\\t\": 2, \"x\": 3, \"x\": 4}", "v");
    CHECK(*vocab.find("\xc3\xa9\xf0\x9f\x98\x80") == 1);
    CHECK(*vocab.find("q\"\\/\n\t") == 2);
    CHECK(*vocab.find("x") == 4);  // the last of a repeated key, as Python's json
    CHECK(vocab.size() == 3);
    const std::vector<std::pair<std::string, std::string>> broken = {
        {"", "line 1 column 1): found the end of the file, expected '{'"},
        {"{\"a\": 1,}", "expected a token string"},
        {"{\"a\" 1}", "expected ':' after a token string"},
        {"{\"a\": 1} x", "expected the end of the file"},
        {"{\"a\": 1.5}", "token \"a\" has id 1.5, expected an integer"},
        {"{\"a\": -3}", "token \"a\" has id -3"},
        {"{\"a\": 99999999999999999999}", "token \"a\" has id 99999999999999999999"},
        {"{\"a\": null}", "token \"a\" has id null"},
        {"{\"a\\ud800\": 1}", "a low surrogate"},
        {"{\"a\\udc00\": 1}", "a high surrogate"},
        {"{\"a\\q\": 1}", "expected an escape"},
        {"{\n\"a\tb\": 1}", "line 2 column 3): found '\\t', expected no control character"},
        {"{\"\xff\": 1}", "valid UTF-8"},
        {"{\"a\": 1", "expected ',' or '}'"},
    };
    for (const auto& [text, expected] : broken) {
        CAPTURE(text);
        const std::string message = error_message([&] { parse_vocab_json(text, "'v.json'"); });
        CHECK(contains(message, "'v.json'"));
        CHECK(contains(message, expected));
    }
}

TEST_CASE("added tokens: the automaton splits as the plain leftmost-longest scan did") {
    std::mt19937 random(15);
    const auto random_text = [&](size_t length, const std::string& alphabet) {
        std::string text;
        for (size_t i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
        return text;
    };
    for (int round = 0; round < 200; ++round) {
        std::vector<AddedToken> tokens;
        const size_t count = 1 + random() % 12;
        for (size_t i = 0; i < count; ++i)
            tokens.push_back({random_text(1 + random() % 5, "abc"), int32_t(i), false});
        const AddedTokenMatcher matcher(tokens);
        const std::string text = random_text(random() % 200, "abcd");
        // The scan it replaced: at each byte the longest token (the first of equals) or move on.
        std::vector<std::pair<size_t, int32_t>> expected, got;
        for (size_t pos = 0; pos < text.size();) {
            const AddedToken* longest = nullptr;
            for (const AddedToken& token : tokens)
                if (std::string_view(text).substr(pos).starts_with(token.content) &&
                    (!longest || token.content.size() > longest->content.size()))
                    longest = &token;
            if (!longest) {
                ++pos;
                continue;
            }
            expected.emplace_back(pos, longest->id);
            pos += longest->content.size();
        }
        for (const AddedTokenMatcher::Match& match : matcher.split(text))
            got.emplace_back(match.start, match.token->id);
        CAPTURE(text);
        REQUIRE(got == expected);
    }
}

TEST_CASE("added tokens: matches across the automaton's 64 KiB windows") {
    const std::vector<AddedToken> tokens = {
        {"<sep>", 7}, {"<sep>>", 8}, {std::string(70000, 'z'), 9}};
    const AddedTokenMatcher matcher(tokens);
    std::string text(65534, 'x');
    text += "<sep>>" + std::string(10, 'y') + std::string(70000, 'z') + "<sep>";
    const auto matches = matcher.split(text);
    REQUIRE(matches.size() == 3);
    CHECK(matches[0].start == 65534);
    CHECK(matches[0].token->id == 8);
    CHECK(matches[1].start == 65550);
    CHECK(matches[1].token->id == 9);
    CHECK(matches[2].token->id == 7);
}

namespace {

// Texts of several kilobytes with what makes tokenizers differ: contractions, digits, runs of
// spaces and newlines, punctuation, accents, CJK, emoji, the special tokens of each family.
std::string mixed_text(std::mt19937& random, size_t bytes) {
    static const std::vector<std::string> pieces = {
        "the", "The",       "attention",     "heads'", "it's",  "we'll",  " ",   "  ",    "\n",
        "\t",  "42",        "3.14",          "café",   "naïve", "日本語", "😀",   "don't", ",",
        "...", "!?",        "<|endoftext|>", "[SEP]",  "[CLS]", "<mask>", "<s>", "a",     "Z",
        "ﬁ",   "x\xcc\x81", "\xff",          "--",     "(",     ")",      "é",   "ß"};
    std::string text;
    while (text.size() < bytes) {
        text += pieces[random() % pieces.size()];
        if (random() % 3 == 0) text += ' ';
    }
    return text;
}

// `frame` (the specials around nothing: "[CLS] [SEP]", "<s> </s></s> </s>", ...) with the bodies
// put back in: front, first, middle, second, back. The front and back are one token each when
// the family has specials.
std::vector<int32_t> framed(const std::vector<int32_t>& frame, std::span<const int32_t> first,
                            std::optional<std::span<const int32_t>> second) {
    const size_t edge = frame.empty() ? 0 : 1;
    std::vector<int32_t> ids(frame.begin(), frame.begin() + edge);
    ids.insert(ids.end(), first.begin(), first.end());
    ids.insert(ids.end(), frame.begin() + edge, frame.end() - edge);
    if (second) ids.insert(ids.end(), second->begin(), second->end());
    ids.insert(ids.end(), frame.end() - edge, frame.end());
    return ids;
}

}  // namespace

TEST_CASE("truncation encodes chunk by chunk and gives exactly the ids of encoding it whole") {
    const std::vector<std::pair<std::filesystem::path, std::string>> tokenizers = {
        {test_support::kGpt2Tokenizer, "gpt2"},
        {kTestData / "roberta-tiny", "roberta"},
        {kSourceDir / "weights" / "bert-base-uncased", "bert"},
    };
    std::mt19937 random(2026);
    for (const auto& [dir, type] : tokenizers) {
        const Tokenizer tokenizer = load_tokenizer_dir(dir, type);
        const std::vector<int32_t> frame = tokenizer.encode("").ids;
        const std::vector<int32_t> pair_frame = tokenizer.encode_pair("", "").ids;
        const size_t edge = frame.empty() ? 0 : 1;
        for (int round = 0; round < 10; ++round) {
            // Long enough for several chunks (the first is 4 KiB or 16 bytes per id wanted).
            const std::string first = mixed_text(random, 3000 + random() % 70000);
            const std::string second = mixed_text(random, 3000 + random() % 70000);
            const std::vector<int32_t> whole_a = tokenizer.encode(first).ids;
            const std::vector<int32_t> whole_b = tokenizer.encode(second).ids;
            const std::span<const int32_t> a(whole_a.data() + edge, whole_a.size() - 2 * edge);
            const std::span<const int32_t> b(whole_b.data() + edge, whole_b.size() - 2 * edge);
            for (size_t max_tokens : {size_t(8), size_t(77), size_t(512), size_t(5001)}) {
                CAPTURE(type);
                CAPTURE(max_tokens);
                const size_t keep = std::min(a.size(), max_tokens - frame.size());
                CHECK(tokenizer.encode(first, max_tokens).ids ==
                      framed(frame, a.first(keep), std::nullopt));
                // Pairs: longest-first from the full lengths, also when both texts are cut and
                // the budget is odd (the longer text keeps the odd token).
                const PairLengths kept =
                    truncate_pair_lengths(a.size(), b.size(), max_tokens - pair_frame.size());
                const Encoding pair = tokenizer.encode_pair(first, second, max_tokens);
                CHECK(pair.ids == framed(pair_frame, a.first(kept.first), b.first(kept.second)));
                CHECK(pair.split == kept.first + frame.size());
            }
        }
    }
}
