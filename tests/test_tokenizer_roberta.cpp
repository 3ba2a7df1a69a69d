// RoBERTa and the model-family tokenizer layer: byte-level BPE with <s>/</s>/<pad>/<unk>/<mask>
// as special tokens and <s> A </s></s> B </s> framing, against RobertaTokenizerFast
// (tests/data/tokenizer/roberta_cases.json, made by make_roberta_tokenizer_cases.py).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

using namespace headmap;
using test_support::kTestData;

namespace {

nlohmann::json roberta_cases() {
    return nlohmann::json::parse(
        test_support::read_file(kTestData / "tokenizer" / "roberta_cases.json"));
}

}  // namespace

TEST_CASE("RoBERTa single texts: ids with <s> ... </s> equal HF's") {
    const Tokenizer tokenizer = load_tokenizer_dir(kTestData / "roberta-tiny", "roberta");
    const auto cases = roberta_cases();
    REQUIRE(cases.at("single").size() >= 10);
    for (const auto& c : cases.at("single")) {
        const std::string text = c.at("text");
        CAPTURE(text);
        const Encoding encoding = tokenizer.encode(text);
        CHECK(encoding.ids == c.at("ids").get<std::vector<int32_t>>());
        CHECK(encoding.type_ids == std::vector<int32_t>(encoding.ids.size(), 0));
    }
}

TEST_CASE("RoBERTa pairs: <s> A </s></s> B </s> equal HF's") {
    const Tokenizer tokenizer = load_tokenizer_dir(kTestData / "roberta-tiny", "roberta");
    const auto cases = roberta_cases();
    REQUIRE(cases.at("pairs").size() >= 3);
    for (const auto& c : cases.at("pairs")) {
        const std::string first = c.at("text"), second = c.at("text_pair");
        CAPTURE(first);
        CAPTURE(second);
        CHECK(tokenizer.encode_pair(first, second).ids == c.at("ids").get<std::vector<int32_t>>());
    }
}

TEST_CASE("special tokens are found in text, and the vocab must hold the framing tokens") {
    const Tokenizer tokenizer = load_tokenizer_dir(kTestData / "roberta-tiny", "roberta");
    const Encoding encoding = tokenizer.encode("<s></s>");
    CHECK(encoding.ids == std::vector<int32_t>{0, 0, 2, 2});
    CHECK(tokenizer.token_string(0) == "<s>");
    // GPT-2's vocabulary has no <s>: asking for RoBERTa framing from it is an error.
    CHECK_THROWS_AS(load_tokenizer_dir(test_support::kGpt2Tokenizer, "roberta"), Error);
    CHECK_THROWS_AS(load_tokenizer_dir(test_support::kGpt2Tokenizer, "t5"), Error);
}

TEST_CASE("GPT-2 adds no special tokens; a pair is the two texts back to back") {
    const Tokenizer tokenizer = load_tokenizer_dir(test_support::kGpt2Tokenizer, "gpt2");
    CHECK(tokenizer.encode("Hello world").ids == std::vector<int32_t>{15496, 995});
    CHECK(tokenizer.encode_pair("Hello", " world").ids == std::vector<int32_t>{15496, 995});
}

TEST_CASE("BERT framing: [CLS] A [SEP] B [SEP] with type ids, and truncation keeps the frame") {
    const Tokenizer tokenizer =
        load_tokenizer_dir(test_support::kSourceDir / "weights" / "bert-base-uncased", "bert");
    const Encoding pair = tokenizer.encode_pair("hello world", "hello");
    CHECK(pair.ids == std::vector<int32_t>{101, 7592, 2088, 102, 7592, 102});
    CHECK(pair.type_ids == std::vector<int32_t>{0, 0, 0, 0, 1, 1});
    // longest_first: the longer text loses tokens first; the special tokens always stay.
    const Encoding cut = tokenizer.encode_pair("hello world hello world", "hello", 6);
    CHECK(cut.ids == std::vector<int32_t>{101, 7592, 2088, 102, 7592, 102});
    CHECK(tokenizer.encode("hello world hello", 3).ids == std::vector<int32_t>{101, 7592, 102});
    CHECK_THROWS_AS(tokenizer.encode("hello", 2), Error);
}
