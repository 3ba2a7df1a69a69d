// GPT-2 tokenizer against Hugging Face reference outputs (tests/data/tokenizer/gpt2_cases.json,
// written by tools/reference/make_tokenizer_fixtures.py), plus loading and error behaviour.
#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "tokenizer/gpt2_bpe.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer_test_support.h"

namespace {

namespace fs = std::filesystem;
using headmap::Gpt2Tokenizer;
using headmap::read_tokenizer_files;
using Json = nlohmann::json;

const fs::path kSourceDir = HEADMAP_SOURCE_DIR;
const fs::path kGpt2Dir = kSourceDir / "weights" / "gpt2";
const fs::path kFixtureDir = fs::path(HEADMAP_TEST_DATA) / "tokenizer";

const Gpt2Tokenizer& gpt2() {
    static const Gpt2Tokenizer tokenizer =
        Gpt2Tokenizer::from_files(read_tokenizer_files(kGpt2Dir));
    return tokenizer;
}

const Json& fixture() {
    static const Json document = [] {
        std::ifstream file(kFixtureDir / "gpt2_cases.json");
        REQUIRE_MESSAGE(file.good(),
                        "missing fixture; run tools/reference/make_tokenizer_fixtures.py");
        return Json::parse(file);
    }();
    return document;
}

using tokenizer_test::bytes_from_hex;
using tokenizer_test::case_input;
using tokenizer_test::contains;
using tokenizer_test::error_message;
using tokenizer_test::FileText;
using tokenizer_test::ScratchDir;

}  // namespace

TEST_CASE("fixture comes from the expected reference and is large enough") {
    const Json& document = fixture();
    MESSAGE("reference: transformers " << document["versions"]["transformers"].get<std::string>()
                                       << ", tokenizers "
                                       << document["versions"]["tokenizers"].get<std::string>());
    CHECK(document["cases"].size() >= 250);
    CHECK(gpt2().vocab_size() == 50257);
    CHECK(std::string(headmap::unicode::unicode_version()) == "15.0.0");
}

TEST_CASE("every fixture case matches Hugging Face ids and tokens") {
    int text_cases = 0;
    int byte_cases = 0;
    for (const Json& test_case : fixture()["cases"]) {
        const std::string input = case_input(test_case);
        const auto expected_ids = test_case["ids"].get<std::vector<int32_t>>();
        const std::vector<int32_t> ids = gpt2().encode(input);
        INFO("input: " << test_case.dump());
        CHECK(ids == expected_ids);
        if (test_case.contains("tokens")) {
            std::vector<std::string> tokens;
            for (int32_t id : ids) tokens.push_back(gpt2().token_string(id));
            CHECK(tokens == test_case["tokens"].get<std::vector<std::string>>());
        }
        if (test_case.contains("text")) {
            CHECK(gpt2().decode(ids) == input);  // byte-level BPE is lossless on valid UTF-8
            ++text_cases;
        } else {
            ++byte_cases;
        }
    }
    MESSAGE(text_cases << " text cases, " << byte_cases << " invalid-UTF-8 cases");
    CHECK(byte_cases >= 20);
}

TEST_CASE("seed sentence gives Hugging Face's ids") {
    const std::vector<int32_t> expected = {32, 649, 6827, 284, 38350, 3241, 19590};
    CHECK(gpt2().encode("A new sentence to visualize attention weights") == expected);
    CHECK(gpt2().decode(expected) == "A new sentence to visualize attention weights");
}

TEST_CASE("token strings and texts") {
    const std::vector<int32_t> ids = gpt2().encode("Hello world");
    REQUIRE(ids.size() == 2);
    CHECK(gpt2().token_string(ids[1]) == "\xC4\xA0world");  // "Ġworld"
    CHECK(gpt2().token_text(ids[1]) == " world");
    CHECK(gpt2().token_string(50256) == "<|endoftext|>");
    CHECK(gpt2().token_text(50256) == "<|endoftext|>");
    CHECK(gpt2().encode("<|endoftext|>") == std::vector<int32_t>{50256});
    CHECK(gpt2().encode("").empty());
}

TEST_CASE("decode of a split multi-byte character returns the raw bytes") {
    const std::vector<int32_t> ids = gpt2().encode("\xE6\x97\xA5");  // one CJK character
    REQUIRE(ids.size() >= 2);  // 日 is not a single GPT-2 token
    const std::string first_part = gpt2().decode(std::vector<int32_t>{ids[0]});
    CHECK(first_part.size() < 3);
    CHECK(first_part == std::string("\xE6\x97\xA5").substr(0, first_part.size()));
}

TEST_CASE("unknown ids are errors naming the id and the vocabulary size") {
    const std::string out_of_range =
        error_message([] { gpt2().decode(std::vector<int32_t>{50257}); });
    CHECK(contains(out_of_range, "50257"));
    CHECK(contains(out_of_range, "token id"));
    const std::string negative = error_message([] { gpt2().token_string(-1); });
    CHECK(contains(negative, "-1"));
    CHECK(contains(negative, "50257"));
    CHECK(!error_message([] { gpt2().token_text(1 << 30); }).empty());
    CHECK(!error_message([] { Gpt2Tokenizer().encode("x"); }).empty());
}

TEST_CASE("missing tokenizer files") {
    const std::string missing_dir = error_message(
        [] { Gpt2Tokenizer::from_files(read_tokenizer_files("/nonexistent/headmap/tokenizer")); });
    CHECK(contains(missing_dir, "/nonexistent/headmap/tokenizer"));
    CHECK(contains(missing_dir, "vocab.json"));

    const ScratchDir empty("empty");
    const std::string no_files =
        error_message([&] { Gpt2Tokenizer::from_files(read_tokenizer_files(empty.path)); });
    CHECK(contains(no_files, empty.path.string()));
    CHECK(contains(no_files, "tokenizer.json"));
    CHECK(contains(no_files, "merges.txt"));

    // A file that is there but cannot be read is an error naming it, not a file left out.
    fs::create_directory(empty.path / "vocab.json");
    const std::string no_vocab = error_message([&] { read_tokenizer_files(empty.path); });
    CHECK(contains(no_vocab, (empty.path / "vocab.json").string()));
    CHECK(contains(no_vocab, "directory"));
}

TEST_CASE("malformed vocab.json and merges.txt") {
    const ScratchDir dir("malformed");
    const fs::path good_vocab = dir.write("good_vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
    const fs::path good_merges = dir.write("good_merges.txt", "#version: 0.2\na b\n");
    CHECK(Gpt2Tokenizer::from_vocab_merges(FileText(good_vocab), FileText(good_merges))
              .vocab_size() == 3);

    const fs::path bad_json = dir.write("bad_vocab.json", "{\"a\": 0,\n \"b\": }\n");
    const std::string json_error = error_message(
        [&] { Gpt2Tokenizer::from_vocab_merges(FileText(bad_json), FileText(good_merges)); });
    CHECK(contains(json_error, "bad_vocab.json"));
    CHECK(contains(json_error, "line 2"));

    const fs::path bad_id = dir.write("bad_id.json", R"({"a": "zero"})");
    const std::string id_error = error_message(
        [&] { Gpt2Tokenizer::from_vocab_merges(FileText(bad_id), FileText(good_merges)); });
    CHECK(contains(id_error, "bad_id.json"));
    CHECK(contains(id_error, "\"a\""));

    const fs::path bad_line = dir.write("bad_merges.txt", "#version: 0.2\na b\nab\n");
    const std::string line_error = error_message(
        [&] { Gpt2Tokenizer::from_vocab_merges(FileText(good_vocab), FileText(bad_line)); });
    CHECK(contains(line_error, "bad_merges.txt"));
    CHECK(contains(line_error, "line 3"));
    CHECK(contains(line_error, "\"ab\""));

    const fs::path unknown_token = dir.write("unknown_merges.txt", "a b\nb c\n");
    const std::string token_error = error_message(
        [&] { Gpt2Tokenizer::from_vocab_merges(FileText(good_vocab), FileText(unknown_token)); });
    CHECK(contains(token_error, "line 2"));
    CHECK(contains(token_error, "\"c\""));
}

TEST_CASE("the saved GPT-2 tokenizer.json encodes exactly like vocab.json + merges.txt") {
    // Written by transformers' backend_tokenizer.save: merges as [left, right] arrays.
    const Gpt2Tokenizer from_json =
        Gpt2Tokenizer::from_tokenizer_json(FileText(kFixtureDir / "gpt2_tokenizer.json"));
    CHECK(from_json.vocab_size() == gpt2().vocab_size());
    for (const Json& test_case : fixture()["cases"]) {
        const std::string input = case_input(test_case);
        INFO("input: " << test_case.dump());
        CHECK(from_json.encode(input) == gpt2().encode(input));
    }
}

TEST_CASE("a tokenizer.json with string merges and added tokens, found by from_files") {
    // Byte-level alphabet: 'a' 'b' 'c' map to themselves, ' ' to "Ġ" (U+0120).
    const ScratchDir dir("json");
    dir.write("tokenizer.json", R"({
      "added_tokens": [
        {"id": 7, "content": "<sep>", "special": true, "lstrip": false, "rstrip": false,
         "single_word": false, "normalized": false},
        {"id": 8, "content": "<sep2>", "special": true}
      ],
      "normalizer": null,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "\u0120": 5,
                                          "\u0120abc": 6},
                "merges": ["a b", "ab c", "\u0120 abc"]}
    })");
    const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::from_files(read_tokenizer_files(dir.path));
    CHECK(tokenizer.vocab_size() == 9);
    CHECK(tokenizer.encode("abc abc") == std::vector<int32_t>{4, 6});
    CHECK(tokenizer.encode("ab<sep>ca") == std::vector<int32_t>{3, 7, 2, 0});
    CHECK(tokenizer.encode("<sep2><sep>") == std::vector<int32_t>{8, 7});  // longest match wins
    CHECK(tokenizer.decode(std::vector<int32_t>{6, 7, 3}) == " abc<sep>ab");

    dir.write("tokenizer.json", R"({"model": {"vocab": {"a": 0}, "merges": [["a"]]}})");
    const std::string bad_merge =
        error_message([&] { Gpt2Tokenizer::from_files(read_tokenizer_files(dir.path)); });
    CHECK(contains(bad_merge, "tokenizer.json"));
    CHECK(contains(bad_merge, "merges[0]"));

    dir.write("tokenizer.json",
              R"({"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true},
                  "model": {"vocab": {"a": 0}, "merges": []}})");
    CHECK(
        contains(error_message([&] { Gpt2Tokenizer::from_files(read_tokenizer_files(dir.path)); }),
                 "add_prefix_space"));
}

TEST_CASE("encode is safe to call from several threads") {
    std::vector<std::string> inputs;
    std::vector<std::vector<int32_t>> expected;
    for (const Json& test_case : fixture()["cases"]) {
        inputs.push_back(case_input(test_case));
        expected.push_back(gpt2().encode(inputs.back()));
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::size_t i = t; i < inputs.size() * 2; ++i) {
                const std::size_t index = i % inputs.size();
                if (gpt2().encode(inputs[index]) != expected[index]) ++mismatches;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == 0);
}
