// --words end to end: export (.npy streamed, .npz, .safetensors, .json, --texts), the views and
// stats on word-level maps, saved maps with --tokens, sentence pairs, and the errors. Word maps
// are checked against the token-level export merged here by a plain loop.
#include <doctest/doctest.h>

#include <cstring>

#include "cli_hostile_checkpoints.h"
#include "cli_test_support.h"

using namespace cli_test;

namespace {

// GPT-2 tokens: Token ization Ġisn 't Ġunbelievably Ġhard -> 5 words.
const std::string kText = "Tokenization isn't unbelievably hard";
const std::vector<int> kWordOfToken = {0, 0, 1, 2, 3, 4};
const std::vector<std::string> kWords = {"Tokenization", "\u0120isn", "'t", "\u0120unbelievably",
                                         "\u0120hard"};
const fs::path kBertTiny = kTestData / "bert-tiny";  // real bert-base-uncased vocabulary

std::string src(const std::string& text = kText) {
    return "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(text);
}

// maps (N, S, S) -> (N, W, W): mean over a word's rows of the sum over a word's columns.
std::vector<double> merge_by_loop(const std::vector<float>& maps, int64_t S,
                                  const std::vector<int>& word_of_token) {
    const int64_t W = word_of_token.back() + 1;
    const int64_t n = int64_t(maps.size()) / (S * S);
    std::vector<double> out(size_t(n * W * W), 0.0);
    std::vector<int> rows(size_t(W), 0);
    for (int w : word_of_token) ++rows[size_t(w)];
    for (int64_t m = 0; m < n; ++m)
        for (int64_t i = 0; i < S; ++i)
            for (int64_t j = 0; j < S; ++j) {
                const int64_t a = word_of_token[size_t(i)], b = word_of_token[size_t(j)];
                out[size_t((m * W + a) * W + b)] +=
                    double(maps[size_t((m * S + i) * S + j)]) / rows[size_t(a)];
            }
    return out;
}

double max_abs_diff(const std::vector<float>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    double worst = 0;
    for (size_t k = 0; k < got.size(); ++k)
        worst = std::max(worst, std::fabs(double(got[k]) - expected[k]));
    return worst;
}

// The "__metadata__" of a .safetensors file.
json safetensors_metadata(const fs::path& path) {
    const std::string bytes = read_file(path);
    REQUIRE(bytes.size() >= 8);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    REQUIRE(bytes.size() >= 8 + header_len);
    return json::parse(bytes.substr(8, header_len))["__metadata__"];
}

}  // namespace

TEST_CASE("export --words: (L, H, W, W) equal to the token maps merged; rows 1, causal kept") {
    TempDir tmp;
    const std::vector<CommandResult> r = run_many({
        "export " + src() + " --out " + quote((tmp / "tokens.npy").string()),
        "export " + src() + " --words --out " + quote((tmp / "words.npy").string()),
        "export " + src() + " --words --layers -1 --heads 1 --out " +
            quote((tmp / "one.npy").string()),
        "export " + src() + " --words --out " + quote((tmp / "words.json").string()),
        "export " + src() + " --words --out " + quote((tmp / "words.safetensors").string()),
        "export " + src() + " --words --out " + quote((tmp / "words.npz").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const NpyArray tokens = read_npy(tmp / "tokens.npy");
    REQUIRE(tokens.shape == std::vector<int64_t>{2, 3, 6, 6});
    const NpyArray words = read_npy(tmp / "words.npy");
    REQUIRE(words.shape == std::vector<int64_t>{2, 3, 5, 5});
    const std::vector<double> expected = merge_by_loop(tokens.values, 6, kWordOfToken);
    CHECK(max_abs_diff(words.values, expected) <= 1e-6);
    check_rows(words);  // rows sum to 1, upper triangle exactly 0
    // Attention to "Tokenization" is the two pieces' columns summed: more than either alone.
    CHECK(words.values[5 * 1 + 0] > tokens.values[6 * 2 + 0]);

    const NpyArray one = read_npy(tmp / "one.npy");
    REQUIRE(one.shape == std::vector<int64_t>{1, 1, 5, 5});
    CHECK(
        std::equal(one.values.begin(), one.values.end(), words.values.begin() + (1 * 3 + 1) * 25));

    const json doc = read_json(tmp / "words.json");
    CHECK(doc["shape"] == json({2, 3, 5, 5}));
    CHECK(doc["tokens"].get<std::vector<std::string>>() == kWords);
    CHECK(doc["word_ids"].get<std::vector<int>>() == kWordOfToken);
    CHECK(doc["ids"].size() == 6);  // the ids stay per token
    CHECK(doc["attentions"][1][2][4][3].get<float>() ==
          words.values[((1 * 3 + 2) * 5 + 4) * 5 + 3]);

    const json meta = safetensors_metadata(tmp / "words.safetensors");
    CHECK(json::parse(meta["tokens"].get<std::string>()).get<std::vector<std::string>>() == kWords);
    CHECK(json::parse(meta["word_ids"].get<std::string>()).get<std::vector<int>>() == kWordOfToken);
    headmap::WeightStore store(headmap::SafetensorsArchive::open(tmp / "words.safetensors"));
    const auto st = store.get("attentions", {2, 3, 5, 5});
    CHECK(std::vector<float>(st.begin(), st.end()) == words.values);

    const std::string npz = read_file(tmp / "words.npz");
    CHECK(contains(npz, "word_ids.npy"));
    CHECK(contains(npz, "'shape': (2, 3, 5, 5)"));
}

TEST_CASE("export --words with --texts: each text its own word count; GPT-2 pairs split") {
    TempDir tmp;
    write_file(tmp / "texts.txt", kText + "\nHello\tworld\nplain words only\n");
    const CommandResult r = run_cli("export --model " + quote(kTiny.string()) + " " + tok_opt() +
                                    " --texts " + quote((tmp / "texts.txt").string()) +
                                    " --words --out " + quote((tmp / "m_{i}.json").string()));
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const json first = read_json(tmp / "m_0.json");
    CHECK(first["shape"] == json({2, 3, 5, 5}));
    CHECK(first["word_ids"].get<std::vector<int>>() == kWordOfToken);
    // "Hello" + "world" joined would be one piece; the pair boundary keeps them two words.
    const json pair = read_json(tmp / "m_1.json");
    CHECK(pair["tokens"] == json({"Hello", "world"}));
    CHECK(pair["shape"] == json({2, 3, 2, 2}));
    const json plain = read_json(tmp / "m_2.json");
    CHECK(plain["shape"] == json({2, 3, 3, 3}));
    CHECK(plain["word_ids"] == json({0, 1, 2}));
}

TEST_CASE("a truncated GPT-2 pair keeps its boundary where truncation left the second text") {
    // 70 + 2 tokens into 64 positions: longest_first cuts the first text to 62 tokens. Joined,
    // its last " a" and "Hello" would read as one piece " aHello".
    std::string first = "x";
    for (int i = 0; i < 69; ++i) first += " a";
    TempDir tmp;
    const std::string pair = "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " +
                             quote(first) + " --pair 'Hello world' --truncate --words";
    const std::vector<CommandResult> r = run_many({
        "export " + pair + " --out " + quote((tmp / "pair.json").string()),
        "heatmap " + pair + " --question-context --out " + quote((tmp / "qc.png").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const json doc = read_json(tmp / "pair.json");
    REQUIRE(doc["ids"].size() == 64);
    CHECK(doc["shape"] == json({2, 3, 64, 64}));  // every token its own word
    CHECK(doc["tokens"][62] == "Hello");
}

TEST_CASE("a GPT-2 pair cut at an odd budget keeps its boundary where HF's truncation put it") {
    // gpt2-tiny cut to 63 positions (config and position table), so a pair has 63 tokens to share.
    TinyCopy copy(false);
    std::vector<RawTensor> tensors = load_raw(kTiny / "model.safetensors");
    RawTensor& wpe = find_raw(tensors, "wpe.weight");
    REQUIRE(wpe.shape == std::vector<int64_t>{64, 24});
    wpe.shape[0] = 63;
    wpe.bytes.resize(63 * 24 * sizeof(float));
    write_raw(copy.weights(), tensors);
    json config = read_json(kTiny / "config.json");
    config["n_positions"] = 63;
    write_file(copy.model / "config.json", config.dump());
    // 41 + 40 tokens: HF keeps 32 + 31, the longer first text taking the odd token (the fixture's
    // "none" grid at 63). "Hello" then starts at 32; a split one short would join it to the " a"
    // before it as one word.
    std::string first = "x", second = "Hello";
    for (int i = 0; i < 40; ++i) first += " a";
    for (int i = 0; i < 39; ++i) second += " b";
    const std::string pair = "--model " + quote(copy.model.string()) + " " + tok_opt() +
                             " --text " + quote(first) + " --pair " + quote(second) +
                             " --truncate --words";
    const fs::path out = copy.out_dir / "pair.json";
    const CommandResult r = run_cli("export " + pair + " --out " + quote(out.string()));
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const json doc = read_json(out);
    REQUIRE(doc["ids"].size() == 63);
    CHECK(doc["shape"] == json({2, 3, 63, 63}));  // every token its own word
    CHECK(doc["tokens"][31] == "\u0120a");
    CHECK(doc["tokens"][32] == "Hello");
    CHECK(doc["tokens"][33] == "\u0120b");
}

TEST_CASE("views, rollout and stats accept --words; the labels are words") {
    TempDir tmp;
    const std::vector<CommandResult> r = run_many({
        "heatmap " + src() + " --words --out " + quote((tmp / "words.svg").string()),
        "heatmap " + src() + " --out " + quote((tmp / "tokens.svg").string()),
        "heatmap " + src() + " --words --out " + quote((tmp / "words.png").string()),
        "stats " + src() + " --words --format json",
        "rollout " + src() + " --words --out " + quote((tmp / "roll.npy").string()),
        "grid " + src() + " --words --out " + quote((tmp / "grid.png").string()),
        "regions " + src() + " --words",
        "compare " + src() + " --words --head 0 --head2 1 --out " +
            quote((tmp / "cmp.png").string()),
        "compare " + src() + " --words --head 0 --head2 1 --out " +
            quote((tmp / "cmp.svg").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        CHECK(c.exit_code == 0);
    }
    // The SVG keeps labels as text: the word, where the token map has its pieces.
    const std::string word_svg = read_file(tmp / "words.svg");
    const std::string token_svg = read_file(tmp / "tokens.svg");
    CHECK(contains(word_svg, ">Tokenization<"));
    CHECK(!contains(word_svg, ">ization<"));
    CHECK(contains(token_svg, ">ization<"));
    CHECK(!contains(token_svg, ">Tokenization<"));
    CHECK(read_file(tmp / "words.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(read_file(tmp / "grid.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(read_file(tmp / "cmp.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    // Axis titles follow the unit, in every view.
    const std::string compare_svg = read_file(tmp / "cmp.svg");
    for (const std::string* svg : {&word_svg, &compare_svg}) {
        CHECK(contains(*svg, "Attended words (keys)"));
        CHECK(!contains(*svg, "Attended tokens"));
    }
    CHECK(contains(token_svg, "Attended tokens (keys)"));

    const json stats = json::parse(r[3].out);
    CHECK(stats["seq"] == 5);
    CHECK(stats["tokens"].get<std::vector<std::string>>() == kWords);
    REQUIRE(stats["heads"].size() == 6);
    for (const json& head : stats["heads"]) {
        REQUIRE(head["column_sums"].size() == 5);
        double received = 0;
        for (const json& c : head["column_sums"]) received += c.get<double>();
        CHECK(received == doctest::Approx(5.0).epsilon(1e-5));  // every word row gives away 1
    }
    const NpyArray rolled = read_npy(tmp / "roll.npy");
    CHECK(rolled.shape == std::vector<int64_t>{5, 5});
    const json regions = json::parse(r[6].out);
    for (const json& region : regions["regions"])
        for (const json& token : region["row_tokens"])
            CHECK(std::find(kWords.begin(), kWords.end(), token.get<std::string>()) !=
                  kWords.end());
}

TEST_CASE("saved maps: --words with --tokens merges by the inferred family; without is an error") {
    TempDir tmp;
    const CommandResult exported =
        run_cli("export " + src() + " --out " + quote((tmp / "tokens.npy").string()));
    REQUIRE(exported.exit_code == 0);
    write_file(tmp / "tokens.txt",
               "Token\nization\n\u0120isn\n't\n\u0120unbelievably\n\u0120hard\n");
    const std::string from = "--from " + quote((tmp / "tokens.npy").string());
    const std::vector<CommandResult> r = run_many({
        "stats " + from + " --tokens " + quote((tmp / "tokens.txt").string()) +
            " --words --format json",
        "heatmap " + from + " --words --out " + quote((tmp / "bad.png").string()),
        "stats " + from + " --tokens " + quote((tmp / "tokens.txt").string()) +
            " --words --split 1 --format json",
        "heatmap " + from + " --tokens " + quote((tmp / "tokens.txt").string()) +
            " --words --out " + quote((tmp / "saved.png").string()),
    });
    INFO("stderr: ", r[0].err);
    REQUIRE(r[0].exit_code == 0);
    const json stats = json::parse(r[0].out);
    CHECK(stats["seq"] == 5);
    CHECK(stats["tokens"].get<std::vector<std::string>>() == kWords);
    check_error(r[1], "--words with --from needs --tokens");
    check_no_output(tmp / "bad.png");
    // --split 1 (a pair whose first text is "Token") forces a word boundary inside
    // "Tokenization": 6 words.
    INFO("stderr: ", r[2].err);
    REQUIRE(r[2].exit_code == 0);
    CHECK(json::parse(r[2].out)["tokens"] ==
          json({"Token", "ization", "\u0120isn", "'t", "\u0120unbelievably", "\u0120hard"}));
    CHECK(r[3].exit_code == 0);
    CHECK(fs::file_size(tmp / "saved.png") > 0);
}

TEST_CASE("BERT pair --words: WordPiece words, the split moves to the second text's first word") {
    TempDir tmp;
    const std::string bert = "--model " + quote(kBertTiny.string()) +
                             " --text 'Tokenization is hard' --pair 'Unbelievably so'";
    const std::vector<CommandResult> r = run_many({
        "export " + bert + " --words --out " + quote((tmp / "pair.json").string()),
        "export " + bert + " --out " + quote((tmp / "tokens.json").string()),
        "heatmap " + bert + " --words --question-context --out " + quote((tmp / "qc.svg").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const json words = read_json(tmp / "pair.json");
    const json tokens = read_json(tmp / "tokens.json");
    // [CLS] token ##ization is hard [SEP] un ##bel ##ie ##va ##bly so [SEP]
    CHECK(tokens["tokens"].size() == 13);
    CHECK(words["tokens"] ==
          json({"[CLS]", "tokenization", "is", "hard", "[SEP]", "unbelievably", "so", "[SEP]"}));
    CHECK(words["word_ids"] == json({0, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 6, 7}));
    CHECK(words["shape"] == json({2, 2, 8, 8}));
    // Encoder maps are not causal: merged attention above the diagonal is kept.
    CHECK(words["attentions"][0][0][0][7].get<double>() > 0.0);
    const std::string svg = read_file(tmp / "qc.svg");
    CHECK(contains(svg, ">unbelievably<"));
    CHECK(contains(svg, "Attended words (keys)"));
}
