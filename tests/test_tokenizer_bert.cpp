// BERT WordPiece tokenizer against Hugging Face reference outputs
// (tests/data/tokenizer/wordpiece_cases.json, written by
// tools/reference/make_wordpiece_fixtures.py), plus loading and error behaviour.
#include <doctest/doctest.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "tokenizer/bert_normalizer.h"
#include "tokenizer/unicode_bert_tables.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece.h"
#include "tokenizer_test_support.h"

namespace {

namespace fs = std::filesystem;
using headmap::read_tokenizer_files;
using headmap::WordPieceOptions;
using headmap::WordPieceTokenizer;
using Json = nlohmann::json;
using Ids = std::vector<int32_t>;

const fs::path kSourceDir = HEADMAP_SOURCE_DIR;
const fs::path kUncasedDir = kSourceDir / "weights" / "bert-base-uncased";
const fs::path kMiniLmDir = kSourceDir / "weights" / "all-MiniLM-L6-v2";
const fs::path kFixture = fs::path(HEADMAP_TEST_DATA) / "tokenizer" / "wordpiece_cases.json";

constexpr int32_t kUnk = 100, kCls = 101, kSep = 102, kMask = 103;

const Json& fixture() {
    static const Json document = [] {
        std::ifstream file(kFixture);
        REQUIRE_MESSAGE(file.good(),
                        "missing fixture; run tools/reference/make_wordpiece_fixtures.py");
        return Json::parse(file);
    }();
    return document;
}

const WordPieceTokenizer& uncased() {  // vocab.txt + tokenizer_config.json
    static const WordPieceTokenizer tokenizer =
        WordPieceTokenizer::from_files(read_tokenizer_files(kUncasedDir));
    return tokenizer;
}

const WordPieceTokenizer& cased() {  // the same vocabulary, do_lower_case=False
    static const WordPieceTokenizer tokenizer = [] {
        WordPieceOptions options;
        options.lowercase = false;
        return WordPieceTokenizer::from_vocab_txt(
            tokenizer_test::FileText(kUncasedDir / "vocab.txt"), options);
    }();
    return tokenizer;
}

const WordPieceTokenizer& minilm() {  // tokenizer.json
    static const WordPieceTokenizer tokenizer = [] {
        REQUIRE_MESSAGE(fs::exists(kMiniLmDir / "tokenizer.json"),
                        kMiniLmDir.string() << "/tokenizer.json is missing: run weights/fetch");
        return WordPieceTokenizer::from_files(read_tokenizer_files(kMiniLmDir));
    }();
    return tokenizer;
}

std::string utf8_of(const std::vector<char32_t>& code_points) {
    std::string text;
    for (char32_t c : code_points) headmap::utf8::append_code_point(text, c);
    return text;
}

using tokenizer_test::bytes_from_hex;
using tokenizer_test::case_input;
using tokenizer_test::contains;
using tokenizer_test::error_message;
using tokenizer_test::FileText;
using tokenizer_test::ScratchDir;

// Compares `tokenizer` with the fixture ids under `key` on every case; returns cases checked.
int check_all_cases(const WordPieceTokenizer& tokenizer, const char* key) {
    int checked = 0;
    for (const Json& test_case : fixture()["cases"]) {
        const std::string input = case_input(test_case);
        INFO(key << " input: " << test_case.dump().substr(0, 300));
        CHECK(tokenizer.encode(input) == test_case[key].get<Ids>());
        ++checked;
    }
    return checked;
}

}  // namespace

TEST_CASE("fixture comes from the expected reference and is large enough") {
    const Json& document = fixture();
    MESSAGE("reference: transformers " << document["versions"]["transformers"].get<std::string>()
                                       << ", tokenizers "
                                       << document["versions"]["tokenizers"].get<std::string>());
    CHECK(document["versions"]["tokenizers"] == "0.23.3");
    CHECK(document["cases"].size() >= 200);
    CHECK(document["code_points"]["count"] == 0x110000 - 0x800);
    CHECK(uncased().vocab_size() == 30522);
    CHECK(cased().vocab_size() == 30522);
    CHECK(uncased().options().lowercase);
    CHECK(*uncased().options().strip_accents);  // follows lowercase
    CHECK(!*cased().options().strip_accents);
}

TEST_CASE("uncased vocab.txt ids equal Hugging Face's on every case") {
    const int checked = check_all_cases(uncased(), "uncased");
    int invalid_utf8 = 0;
    for (const Json& test_case : fixture()["cases"])
        invalid_utf8 += test_case.contains("bytes_hex");
    MESSAGE(checked << " cases (" << invalid_utf8 << " invalid UTF-8)");
    CHECK(invalid_utf8 >= 20);
}

TEST_CASE("cased mode (do_lower_case=false, same vocabulary) equals Hugging Face's") {
    MESSAGE(check_all_cases(cased(), "cased") << " cases");
}

TEST_CASE("tokenizer.json (all-MiniLM-L6-v2) gives the uncased ids") {
    // from_files: tokenizer.json with MiniLM's tokenizer_config.json (BertTokenizer, lowercase).
    CHECK(minilm().vocab_size() == 30522);
    MESSAGE(check_all_cases(minilm(), "uncased") << " cases via from_files");
    // tokenizer.json alone, as the tokenizers library reads it.
    const WordPieceTokenizer direct =
        WordPieceTokenizer::from_tokenizer_json(FileText(kMiniLmDir / "tokenizer.json"));
    CHECK(direct.encode("Hello [SEP] W\u00f6rld") == Ids{7592, kSep, 2088});
    MESSAGE(check_all_cases(direct, "uncased") << " cases via from_tokenizer_json");
}

TEST_CASE("tokenizer_config.json overrides tokenizer.json's normalizer, as in transformers") {
    REQUIRE_MESSAGE(fs::exists(kMiniLmDir / "tokenizer.json"), "run weights/fetch");
    const ScratchDir dir("override");
    fs::copy_file(kMiniLmDir / "tokenizer.json", dir.path / "tokenizer.json");
    dir.write("tokenizer_config.json",
              R"({"tokenizer_class": "BertTokenizer", "do_lower_case": false})");
    MESSAGE(check_all_cases(WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)), "cased")
            << " cases");
    // Without a BERT tokenizer class, tokenizer.json is taken as it is (lowercasing).
    dir.write("tokenizer_config.json", R"({"do_lower_case": false})");
    CHECK(WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)).encode("Hello") ==
          Ids{7592});
}

TEST_CASE("ids with [CLS]/[SEP] are the plain ids wrapped in 101 ... 102") {
    int checked = 0;
    for (const Json& test_case : fixture()["cases"]) {
        for (const char* mode : {"uncased", "cased"}) {
            const std::string key = std::string(mode) + "_with_special";
            if (!test_case.contains(key)) continue;
            Ids expected = {kCls};
            for (int32_t id : test_case[mode]) expected.push_back(id);
            expected.push_back(kSep);
            CHECK(test_case[key].get<Ids>() == expected);
            ++checked;
        }
    }
    CHECK(checked >= 20);
}

TEST_CASE("special tokens are split out of the raw text, case-sensitively") {
    CHECK(uncased().encode("hello world") == Ids{7592, 2088});
    CHECK(uncased().encode("hello [SEP] world") == Ids{7592, kSep, 2088});
    CHECK(uncased().encode("x[MASK]y") == Ids{1060, kMask, 1061});
    CHECK(uncased().encode("[CLS][UNK]") == Ids{kCls, kUnk});
    CHECK(uncased().encode("[cls]") == Ids{1031, 18856, 2015, 1033});  // "[", "cl", "##s", "]"
    CHECK(uncased().encode("").empty());
    CHECK(uncased().encode(" \t\n\u200b ").empty());
    CHECK(uncased().token_id("[SEP]") == kSep);
    CHECK(uncased().token_id("##ing") == 2075);
    CHECK(!uncased().token_id("not-a-token"));
    CHECK(uncased().token_string(kCls) == "[CLS]");
    CHECK(uncased().token_string(2075) == "##ing");
    CHECK(!error_message([] { uncased().token_string(30522); }).empty());
    CHECK(!error_message([] { uncased().token_string(-1); }).empty());
    CHECK(!error_message([] { WordPieceTokenizer().encode("x"); }).empty());
}

TEST_CASE("every code point: normalizer and pre-tokenizer classes equal Hugging Face's") {
    namespace bert = headmap::bert;
    const Json& data = fixture()["code_points"];
    const auto in_range_list = [](const Json& ranges) {
        std::vector<bool> member(0x110000);
        for (const Json& range : ranges) {
            for (auto c = range[0].get<uint32_t>(); c <= range[1].get<uint32_t>(); ++c) {
                member[c] = true;
            }
        }
        return member;
    };
    const auto in_list = [](const Json& list) {
        std::vector<bool> member(0x110000);
        for (const Json& c : list) member[c.get<uint32_t>()] = true;
        return member;
    };
    const auto mapping = [](const Json& list) {
        std::vector<std::vector<char32_t>> map(0x110000);
        for (const Json& entry : list) {
            for (const Json& c : entry[1])
                map[entry[0].get<uint32_t>()].push_back(c.get<char32_t>());
        }
        return map;
    };
    const auto dropped = in_range_list(data["dropped"]);
    const auto to_space = in_list(data["to_space"]);
    const auto chinese = in_range_list(data["chinese"]);
    const auto whitespace = in_list(data["whitespace"]);
    const auto punctuation = in_range_list(data["punctuation"]);
    const auto strip_removed = in_range_list(data["strip_removed"]);
    const auto lowercase = mapping(data["lowercase"]);
    const auto strip_mapped = mapping(data["strip_mapped"]);
    const char32_t hangul_first = data["strip_hangul"][0], hangul_last = data["strip_hangul"][1];

    const bert::NormalizerOptions clean_only{true, false, false, false};
    const bert::NormalizerOptions chinese_only{false, true, false, false};
    const bert::NormalizerOptions strip_only{false, false, true, false};
    const bert::NormalizerOptions lower_only{false, false, false, true};
    const bert::NormalizerOptions full_uncased{true, true, true, true};
    const bert::NormalizerOptions full_cased{true, true, false, false};

    std::vector<char32_t> out, scratch;
    const auto normalize = [&](char32_t c, const bert::NormalizerOptions& options) {
        out.clear();
        bert::normalize(std::span<const char32_t>(&c, 1), options, out, scratch);
        return out;
    };
    std::vector<std::string> mismatches;
    const auto expect = [&](bool ok, char32_t c, const char* what) {
        if (!ok && mismatches.size() < 30) {
            char hex[16];
            std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(c));
            mismatches.push_back(std::string(hex) + " " + what);
        }
    };
    std::vector<std::string> uncased_hashes, cased_hashes;
    uint64_t hash_uncased = 0, hash_cased = 0;
    const auto fnv = [](uint64_t hash, const std::vector<char32_t>& code_points) {
        std::string bytes = utf8_of(code_points);
        bytes.push_back('\xFF');
        for (unsigned char byte : bytes) hash = (hash ^ byte) * 0x100000001B3ULL;
        return hash;
    };
    int checked = 0;
    for (char32_t c = 0; c < 0x110000; ++c) {
        if (c % 0x1000 == 0) hash_uncased = hash_cased = 0xCBF29CE484222325ULL;
        if (c < 0xD800 || c > 0xDFFF) {
            ++checked;
            const std::vector<char32_t> self = {c};
            const auto cleaned = normalize(c, clean_only);
            expect(cleaned.empty() == dropped[c], c, "dropped by clean_text");
            expect((cleaned == std::vector<char32_t>{U' '} && c != U' ') == to_space[c], c,
                   "mapped to ' ' by clean_text");
            expect(dropped[c] || to_space[c] || cleaned == self, c, "kept by clean_text");
            expect((normalize(c, chinese_only).size() == 3) == chinese[c], c, "Chinese");
            expect(bert::is_pre_tokenizer_whitespace(c) == whitespace[c], c, "whitespace");
            expect(bert::is_pre_tokenizer_punctuation(c) == punctuation[c], c, "punctuation");
            const auto lowered = normalize(c, lower_only);
            expect(lowered == (lowercase[c].empty() ? self : lowercase[c]), c, "lowercase");
            const auto stripped = normalize(c, strip_only);
            if (c >= hangul_first && c <= hangul_last) {
                const char32_t s = c - 0xAC00;
                std::vector<char32_t> jamo = {0x1100 + s / 588, 0x1161 + (s % 588) / 28};
                if (s % 28) jamo.push_back(0x11A7 + s % 28);
                expect(stripped == jamo, c, "Hangul NFD");
            } else if (strip_removed[c]) {
                expect(stripped.empty(), c, "removed by strip_accents");
            } else {
                expect(stripped == (strip_mapped[c].empty() ? self : strip_mapped[c]), c,
                       "strip_accents");
            }
            hash_uncased = fnv(hash_uncased, normalize(c, full_uncased));
            hash_cased = fnv(hash_cased, normalize(c, full_cased));
        }
        if (c % 0x1000 == 0xFFF) {
            char hex[2][17];
            std::snprintf(hex[0], 17, "%016llx", static_cast<unsigned long long>(hash_uncased));
            std::snprintf(hex[1], 17, "%016llx", static_cast<unsigned long long>(hash_cased));
            uncased_hashes.push_back(hex[0]);
            cased_hashes.push_back(hex[1]);
        }
    }
    MESSAGE(checked << " code points checked");
    std::string report;
    for (const std::string& line : mismatches) report += line + "\n";
    CHECK_MESSAGE(mismatches.empty(), "first mismatches:\n" << report);
    CHECK(checked == data["count"].get<int>());
    for (std::size_t block = 0; block < uncased_hashes.size(); ++block) {
        char first[16];
        std::snprintf(first, sizeof first, "U+%04zX", block * 0x1000);
        INFO("normalized outputs differ somewhere in the block of 0x1000 from " << first);
        CHECK(uncased_hashes[block] == data["block_hashes"]["uncased"][block].get<std::string>());
        CHECK(cased_hashes[block] == data["block_hashes"]["cased"][block].get<std::string>());
    }
}

TEST_CASE("multi-code-point normalization (canonical reordering, marks) equals HF's") {
    const headmap::bert::NormalizerOptions uncased_options{true, true, true, true};
    const headmap::bert::NormalizerOptions cased_options{true, true, false, false};
    int checked = 0;
    for (const Json& entry : fixture()["normalize_cases"]) {
        const std::string text = entry[0];
        INFO("text: " << entry.dump());
        CHECK(headmap::bert::normalize_utf8(text, uncased_options) == entry[1].get<std::string>());
        CHECK(headmap::bert::normalize_utf8(text, cased_options) == entry[2].get<std::string>());
        ++checked;
    }
    CHECK(checked >= 200);
}

TEST_CASE("WordPiece on a small vocabulary: greedy longest match, [UNK], limits") {
    // Expected ids are what HF's BertTokenizerFast(vocab=<file>) gives for the same files.
    const ScratchDir dir("small");
    // Ids are line numbers; line 8 repeats "un" (the last line wins); trailing spaces and CRLF
    // are trimmed as HF's read_file does.
    const fs::path vocab =
        dir.write("vocab.txt", "[UNK]\n[CLS]\nun\n##aff\n##able\naff\n##a\nb  \r\nun\n##\n");
    const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_txt(FileText(vocab), {});
    CHECK(tokenizer.token_id("un") == 8);
    CHECK(tokenizer.token_id("b") == 7);
    CHECK(error_message([&] { tokenizer.token_string(2); }) != "");  // "un" moved to id 8
    CHECK(tokenizer.encode("unaffable") == Ids{8, 3, 4});
    CHECK(tokenizer.encode("UNAFFABLE") == Ids{8, 3, 4});
    CHECK(tokenizer.encode("unaffablex aff") == Ids{0, 5});  // unpieceable word: one [UNK]
    CHECK(tokenizer.encode("baaa") == Ids{7, 6, 6, 6});
    CHECK(tokenizer.encode("b[CLS]b") == Ids{7, 1, 7});

    // Special tokens missing from vocab.txt get new ids in HF's order: sep, pad, cls, mask.
    const fs::path partial = dir.write("partial.txt", "[UNK]\na\nb\n");
    const WordPieceTokenizer appended = WordPieceTokenizer::from_vocab_txt(FileText(partial), {});
    CHECK(appended.vocab_size() == 7);
    CHECK(appended.encode("a [SEP] b [CLS] [PAD] [MASK] [UNK] c") == Ids{1, 3, 2, 5, 4, 6, 0, 0});
    CHECK(appended.token_string(4) == "[PAD]");

    WordPieceOptions options;
    options.max_input_chars_per_word = 3;
    options.continuing_prefix = "@@";
    const fs::path vocab2 = dir.write("vocab2.txt", "[UNK]\nab\n@@c\n@@cd\n");
    const WordPieceTokenizer limited =
        WordPieceTokenizer::from_vocab_txt(FileText(vocab2), options);
    CHECK(limited.encode("abc abcd ab") == Ids{1, 2, 0, 1});

    const fs::path no_unk = dir.write("no_unk.txt", "a\n");
    const WordPieceTokenizer without_unk = WordPieceTokenizer::from_vocab_txt(FileText(no_unk), {});
    CHECK(without_unk.encode("a a") == Ids{0, 0});
    CHECK(contains(error_message([&] { without_unk.encode("b"); }), "[UNK]"));  // HF fails too
}

TEST_CASE("missing and malformed tokenizer files are errors naming the file") {
    const ScratchDir dir("errors");
    const std::string missing_dir = error_message(
        [] { WordPieceTokenizer::from_files(read_tokenizer_files("/nonexistent/headmap/bert")); });
    CHECK(contains(missing_dir, "/nonexistent/headmap/bert"));

    const std::string no_files =
        error_message([&] { WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)); });
    CHECK(contains(no_files, dir.path.string()));
    CHECK(contains(no_files, "vocab.txt"));

    fs::create_directory(dir.path / "vocab.txt");  // there, but not a file that can be read
    const std::string no_vocab = error_message([&] { read_tokenizer_files(dir.path); });
    CHECK(contains(no_vocab, (dir.path / "vocab.txt").string()));
    fs::remove(dir.path / "vocab.txt");

    dir.write("vocab.txt", "[UNK]\nok\nbad\xff\n");
    const std::string bad_utf8 =
        error_message([&] { WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)); });
    CHECK(contains(bad_utf8, "vocab.txt"));
    CHECK(contains(bad_utf8, "line 3"));

    dir.write("vocab.txt", "[UNK]\nhello\n");
    dir.write("tokenizer_config.json", "{\"do_lower_case\": tru");
    const std::string bad_config =
        error_message([&] { WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)); });
    CHECK(contains(bad_config, "tokenizer_config.json"));
    dir.write("tokenizer_config.json", R"({"do_lower_case": "yes"})");
    const std::string bad_flag =
        error_message([&] { WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)); });
    CHECK(contains(bad_flag, "tokenizer_config.json"));
    CHECK(contains(bad_flag, "do_lower_case"));
    dir.write("tokenizer_config.json", R"({"do_lower_case": false})");
    CHECK(WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)).encode("hello Hello") ==
          Ids{1, 0});

    const std::string good_model =
        R"("model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}})";
    const std::string bert_parts =
        R"("normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"})";
    dir.write("tokenizer.json", "{" + good_model + ", " + bert_parts + "}");
    CHECK(WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)).encode("A b") ==
          Ids{1, 0});

    const std::vector<std::pair<std::string, std::string>> bad_json_files = {
        {"{\"model\": {\"type\": \"WordPiece\",\n \"vocab\": }", "not valid JSON"},
        {R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, )" + bert_parts + "}", "BPE"},
        {"{" + good_model + R"(, "normalizer": {"type": "Sequence", "normalizers": []},
          "pre_tokenizer": {"type": "BertPreTokenizer"}})",
         "Sequence"},
        {"{" + good_model + R"(, "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}})",
         "Whitespace"},
        {"{" + good_model + ", " + bert_parts + R"(, "added_tokens": [{"id": 5, "content": "<x>",
          "lstrip": true}]})",
         "lstrip"},
        {"{" + good_model + ", " + bert_parts + R"(, "added_tokens": [{"content": "<x>"}]})",
         "added_tokens[0]"},
        {R"({"model": {"type": "WordPiece", "vocab": {"a": "zero"}}, )" + bert_parts + "}",
         "\"a\""},
        {"{" + good_model + R"(, "normalizer": {"type": 5}, "pre_tokenizer": null})",
         "type must be string"},
        {"[1, 2]", "model"},
    };
    for (const auto& [contents, expected] : bad_json_files) {
        const fs::path path = dir.write("tokenizer.json", contents);
        const std::string message =
            error_message([&] { WordPieceTokenizer::from_tokenizer_json(FileText(path)); });
        INFO("tokenizer.json: " << contents);
        CHECK(contains(message, path.string()));
        CHECK(contains(message, expected));
        CHECK(contains(
            error_message([&] { WordPieceTokenizer::from_files(read_tokenizer_files(dir.path)); }),
            "tokenizer.json"));
    }
}

TEST_CASE("encode is safe to call from several threads") {
    std::vector<std::string> inputs;
    std::vector<Ids> expected;
    for (const Json& test_case : fixture()["cases"]) {
        inputs.push_back(case_input(test_case));
        expected.push_back(test_case["uncased"].get<Ids>());
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::size_t i = t; i < inputs.size() * 2; i += 2) {
                const std::size_t index = i % inputs.size();
                if (uncased().encode(inputs[index]) != expected[index]) ++mismatches;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == 0);
}

TEST_CASE("a 10 KB text tokenizes quickly") {
    std::string text;
    Ids expected;
    for (const Json& test_case : fixture()["cases"]) {
        if (test_case.contains("text") && test_case["text"].get<std::string>().size() > 9000) {
            text = test_case["text"];
            expected = test_case["uncased"].get<Ids>();
        }
    }
    REQUIRE(text.size() >= 10000);
    double best_ms = 1e9;
    for (int run = 0; run < 5; ++run) {
        const auto start = std::chrono::steady_clock::now();
        const Ids ids = uncased().encode(text);
        const std::chrono::duration<double, std::milli> elapsed =
            std::chrono::steady_clock::now() - start;
        best_ms = std::min(best_ms, elapsed.count());
        CHECK(ids == expected);
    }
    MESSAGE(text.size() << " bytes -> " << expected.size() << " ids in " << best_ms << " ms");
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
    CHECK(best_ms < 10.0);
#endif
}
