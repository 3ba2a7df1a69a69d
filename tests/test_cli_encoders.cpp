// The CLI on BERT-family models: tokenize with special tokens and pairs, export of single texts,
// pairs and --texts batches (each text at its own length), bench on a file of texts, and the
// bad-input contract for encoder checkpoints and batch options.
#include <doctest/doctest.h>

#include "cli_hostile_checkpoints.h"
#include "cli_test_support.h"

using namespace cli_test;

namespace {

const fs::path kMiniLM = kSourceDir / "weights" / "all-MiniLM-L6-v2";
const fs::path kBertTiny = kTestData / "bert-tiny";

// Index of the first case that is (or is not) a sentence pair.
int find_case(const Expected& e, bool pair) {
    for (int c = 0; c < e.cases(); ++c)
        if (e.meta["cases"][c].contains("text_pair") == pair) return c;
    FAIL("no such case");
    return -1;
}

}  // namespace

TEST_CASE("tokenize --model minilm prints [CLS] ... [SEP] ids, pairs with type ids") {
    REQUIRE_MESSAGE(fs::exists(kMiniLM / "model.safetensors"), "run weights/fetch");
    const Expected e(kTestData / "minilm-expected");
    const int single = find_case(e, false), pair = find_case(e, true);
    const CommandResult one = run_cli("tokenize --model minilm --text " + quote(e.text(single)));
    CHECK(one.exit_code == 0);
    CHECK(one.out == join_ids(e.ids(single)) + "\n");
    const CommandResult two = run_cli("tokenize --model minilm --text " + quote(e.text(pair)) +
                                      " --pair " + quote(e.text_pair(pair)) + " --type-ids");
    CHECK(two.exit_code == 0);
    CHECK(two.out ==
          join_ids(e.ids(pair)) + "\n" + join_ids(e.meta["cases"][pair]["type_ids"]) + "\n");
    const CommandResult tokens = run_cli("tokenize --model minilm --text 'Hello, world' --tokens");
    CHECK(tokens.out == "[CLS] hello , world [SEP]\n");
}

TEST_CASE("export on real MiniLM: a text and a pair match HF's maps") {
    REQUIRE_MESSAGE(fs::exists(kMiniLM / "model.safetensors"), "run weights/fetch");
    Expected e(kTestData / "minilm-expected");
    TempDir tmp;
    for (bool pair : {false, true}) {
        const int c = find_case(e, pair);
        const fs::path out = tmp / ("case" + std::to_string(c) + ".npy");
        std::string args =
            "export --model minilm --text " + quote(e.text(c)) + " --out " + quote(out.string());
        if (pair) args += " --pair " + quote(e.text_pair(c));
        const CommandResult r = run_cli(args);
        REQUIRE(r.exit_code == 0);
        const NpyArray got = read_npy(out);
        CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, e.seq(c), range(e.layers),
                       range(e.heads)) <= 1e-5);
    }
}

TEST_CASE("export --texts: one file per line, each at its own length; a tab makes a pair") {
    Expected e(kTestData / "bert-tiny");
    TempDir tmp;
    std::string lines;
    std::vector<int> cases;
    for (int c = 0; c < e.cases(); ++c) {
        lines += e.text(c);
        if (!e.text_pair(c).empty()) lines.append("\t").append(e.text_pair(c));
        lines += '\n';
        if (c == 1) lines += "\n";  // empty lines are skipped
        cases.push_back(c);
    }
    write_file(tmp / "texts.txt", lines);
    const CommandResult r = run_cli("export --model " + quote(kBertTiny.string()) + " --texts " +
                                    quote((tmp / "texts.txt").string()) + " --out " +
                                    quote((tmp / "maps_{i}.npy").string()) + " --layers -1");
    REQUIRE(r.exit_code == 0);
    for (int c : cases) {
        CAPTURE(c);
        const NpyArray got = read_npy(tmp / ("maps_" + std::to_string(c) + ".npy"));
        CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, e.seq(c), {e.layers - 1},
                       range(e.heads)) <= 1e-5);
    }
    CHECK(!fs::exists(tmp / ("maps_" + std::to_string(e.cases()) + ".npy")));
}

TEST_CASE("bench --model minilm --texts reports sentences per second") {
    REQUIRE_MESSAGE(fs::exists(kMiniLM / "model.safetensors"), "run weights/fetch");
    TempDir tmp;
    write_file(tmp / "texts.txt", "A first sentence.\nA second one\twith a pair.\nThird.\n");
    const CommandResult r = run_cli("bench --model minilm --texts " +
                                    quote((tmp / "texts.txt").string()) + " --runs 1 --threads 1");
    REQUIRE(r.exit_code == 0);
    const json line = json::parse(r.out);
    CHECK(line["texts"] == 3);
    CHECK(line["maps"] == 3 * 6 * 12);
    CHECK(line["sentences_per_s"].get<double>() > 0);
}

TEST_CASE("batch and pair options: bad combinations and inputs exit 2 with one line") {
    TempDir tmp;
    write_file(tmp / "two.txt", "one\ntwo\n");
    write_file(tmp / "empty.txt", "\n\n");
    const std::string model = "--model " + quote(kBertTiny.string());
    const std::string two = quote((tmp / "two.txt").string());
    check_error(run_cli("export " + model + " --texts " + two + " --out " +
                        quote((tmp / "x.npy").string())),
                "{i}");
    check_no_output(tmp / "x.npy");
    // One path of the batch unwritable (d1/ is missing): refused before any file is written.
    fs::create_directories(tmp / "d0");
    check_error(run_cli("export " + model + " --texts " + two + " --out " +
                        quote((tmp / "d{i}" / "e.npy").string())),
                (tmp / "d1" / "e.npy").string());
    check_no_output(tmp / "d0" / "e.npy");
    // Every "{i}" is replaced, not only the first.
    REQUIRE(run_cli("export " + model + " --texts " + two + " --layers -1 --out " +
                    quote((tmp / "d0" / "r{i}_{i}.npy").string()))
                .exit_code == 0);
    CHECK(entries(tmp / "d0") == std::set<std::string>{"r0_0.npy", "r1_1.npy"});
    check_error(run_cli("export " + model + " --texts " + two + " --text hi --out " +
                        quote((tmp / "y_{i}.npy").string())),
                "--texts cannot be combined");
    check_error(run_cli("tokenize " + model + " --texts " + quote((tmp / "none.txt").string())),
                "cannot read");
    check_error(run_cli("tokenize " + model + " --texts " + quote((tmp / "empty.txt").string())),
                "no texts");
    // 40 words of 1 token each, twice: 83 tokens with the frame, over the 64 positions.
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += "word ";
    write_file(tmp / "long.txt", "short\n" + long_text + "\t" + long_text + "\n");
    check_error(run_cli("tokenize " + model + " --texts " + quote((tmp / "long.txt").string())),
                "line 2");
    const CommandResult cut = run_cli("tokenize " + model + " --text " + quote(long_text) +
                                      " --pair " + quote(long_text) + " --truncate --type-ids");
    CHECK(cut.exit_code == 0);
    CHECK(std::count(cut.out.begin(), cut.out.end(), ' ') == 2 * 63);  // 64 ids and 64 types
}

TEST_CASE("encoder checkpoints: a config that does not fit the weights names the tensor") {
    TempDir tmp;
    const fs::path model = tmp / "model";
    fs::create_directories(model);
    for (const char* name : {"model.safetensors", "vocab.txt", "tokenizer_config.json"})
        fs::copy_file(kTestData / "distilbert-tiny" / name, model / name);
    fs::copy_file(kTestData / "distilbert-tiny" / "config.json", model / "config.json");
    // DistilBERT weights under a BERT config: BERT's names are not there.
    json bert = read_json(kBertTiny / "config.json");
    write_file(model / "config.json", bert.dump());
    const std::string args = "export --model " + quote(model.string()) + " --text hi --out " +
                             quote((tmp / "o.npy").string());
    check_error(run_cli(args), "tensor 'embeddings.token_type_embeddings.weight' not found");
    check_no_output(tmp / "o.npy");
    // The right family with a wrong width: the shape mismatch names the tensor.
    json distil = read_json(kTestData / "distilbert-tiny" / "config.json");
    distil["dim"] = 32;
    distil["n_heads"] = 4;
    write_file(model / "config.json", distil.dump());
    check_error(run_cli(args), "embeddings.word_embeddings.weight");
    check_no_output(tmp / "o.npy");
}
