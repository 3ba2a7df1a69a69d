// End-to-end tests of the headmap CLI: tokenize ids against Hugging Face's, and exported attention
// maps against transformers' outputs (tests/data/*/expected.*), layer/head selection, and the
// .npy format. The bad-input cases are in test_cli_bad_input.cpp; shared helpers in
// cli_test_support.h. CLI runs that are independent go a few at a time (run_many), so the suite
// stays within a few seconds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "test_support.h"

using namespace cli_test;

// ============================================================================================
// 1. tokenize
// ============================================================================================

TEST_CASE("tokenize: the seed sentence gives HF's ids on one line, single spaces") {
    const CommandResult r = run_cli(tokenize_args(kTiny, kSeed));
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == kSeedIds + "\n");
}

TEST_CASE("tokenize: every fixture case gives exactly the ids in expected.json") {
    // Both fixtures were tokenized with the same GPT-2 tokenizer: one run per text suffices.
    const json tiny = read_json(kTiny / "expected.json"),
               distil = read_json(kDistil / "expected.json");
    REQUIRE(tiny["cases"].size() == distil["cases"].size());
    for (size_t i = 0; i < tiny["cases"].size(); ++i) {
        CHECK(tiny["cases"][i]["text"] == distil["cases"][i]["text"]);
        CHECK(tiny["cases"][i]["ids"] == distil["cases"][i]["ids"]);
    }
    REQUIRE(tiny["cases"].size() >= 7);
    std::vector<std::string> args;
    for (const json& c : tiny["cases"])
        args.push_back(tokenize_args(kTiny, c["text"].get<std::string>()));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < results.size(); ++i) {
        const json& c = tiny["cases"][i];
        INFO(c["name"].get<std::string>(), ": ", c["text"].get<std::string>());
        INFO("stderr: ", results[i].err);
        CHECK(results[i].exit_code == 0);
        CHECK(results[i].err.empty());
        CHECK(results[i].out == join_ids(c["ids"]) + "\n");
    }
}

TEST_CASE("tokenize --tokens prints the vocab strings of the ids") {
    const CommandResult seed = run_cli(tokenize_args(kTiny, kSeed, "--tokens"));
    CHECK(seed.exit_code == 0);
    CHECK(seed.out == "A Ġnew Ġsentence Ġto Ġvisualize Ġattention Ġweights\n");

    // Every case: the token strings are the vocab.json keys of HF's ids, one line.
    const json vocab = read_json(kGpt2Tokenizer / "vocab.json");
    std::map<int, std::string> by_id;
    for (const auto& [token, id] : vocab.items()) by_id[id.get<int>()] = token;
    const json meta = read_json(kTiny / "expected.json");
    const std::vector<int> picked = {1, 2, 3, 5, 6};  // case0 is the seed, checked above
    std::vector<std::string> args;
    for (int i : picked)
        args.push_back(
            tokenize_args(kTiny, meta["cases"][i]["text"].get<std::string>(), "--tokens"));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < results.size(); ++i) {
        const json& c = meta["cases"][size_t(picked[i])];
        INFO(c["name"].get<std::string>());
        std::string expected;
        for (const json& id : c["ids"]) {
            if (!expected.empty()) expected += ' ';
            expected += by_id.at(id.get<int>());
        }
        const CommandResult& r = results[i];
        CHECK(r.exit_code == 0);
        CHECK(r.out == expected + "\n");
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    }
}

TEST_CASE("the byte tokenizer used by the failure tests turns each byte into its own token") {
    const CommandResult r = run_cli("tokenize --model " + quote(kTiny.string()) + " --tokenizer " +
                                    quote(byte_tokenizer().string()) + " --text " + quote(kSeed));
    CHECK(r.exit_code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), ' ') == int(kSeed.size()) - 1);
    CHECK(r.out.rfind("32 ", 0) == 0);  // 'A' is byte token 32 in GPT-2's vocabulary
    // A model that works with it: the sanity export of the hostile-checkpoint tests.
    TempDir tmp;
    const CommandResult e = run_cli(fast_export_args(kTiny, kSeed, tmp / "b.npy"));
    CHECK(e.exit_code == 0);
    CHECK(read_npy(tmp / "b.npy").shape ==
          std::vector<int64_t>{2, 3, int64_t(kSeed.size()), int64_t(kSeed.size())});
}

TEST_CASE("tokenize: --name=value spelling and option order do not matter") {
    const CommandResult r = run_cli("tokenize --text=" + quote(kSeed) + " " + tok_opt() +
                                    " --model=" + quote(kTiny.string()));
    CHECK(r.exit_code == 0);
    CHECK(r.out == kSeedIds + "\n");
}

TEST_CASE("invalid UTF-8 in --text does not crash: it is replaced by U+FFFD") {
    struct Case {
        std::string raw, replaced;
    };
    const std::string fffd = "\xEF\xBF\xBD";
    const Case cases[] = {
        {"\xff\xfe ab", fffd + fffd + " ab"},                // bytes that never start a sequence
        {"caf\xc3", "caf" + fffd},                           // truncated 2-byte sequence at the end
        {"x\xed\xa0\x80y", "x" + fffd + fffd + fffd + "y"},  // encoded surrogate: one per byte
        {"\xe6\x97 tail", fffd + " tail"},                   // truncated 3-byte sequence
    };
    std::vector<std::string> args;
    for (const Case& c : cases) {
        args.push_back(tokenize_args(kTiny, c.raw));
        args.push_back(tokenize_args(kTiny, c.replaced));
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < std::size(cases); ++i) {
        INFO("replaced text: ", cases[i].replaced);
        const CommandResult& raw = results[2 * i];
        const CommandResult& ok = results[2 * i + 1];
        CHECK(raw.exit_code == 0);
        CHECK(raw.err.empty());
        CHECK(ok.exit_code == 0);
        CHECK(!raw.out.empty());
        CHECK(raw.out == ok.out);
    }
    TempDir tmp;
    const CommandResult r = run_cli(export_args(kTiny, "bad \xff\xc3( bytes", tmp / "a.npy"));
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    const NpyArray a = read_npy(tmp / "a.npy");
    REQUIRE(a.shape.size() == 4);
    CHECK(a.shape[0] == 2);
    CHECK(a.shape[1] == 3);
    check_rows(a);
}

// ============================================================================================
// 2. export
// ============================================================================================

TEST_CASE("export: every case of both fixtures matches transformers' attentions within 1e-5") {
    for (const fs::path& dir : {kTiny, kDistil}) {
        Expected e(dir);
        REQUIRE(e.cases() >= 3);
        TempDir tmp;
        const auto out_of = [&](int c) { return tmp / ("case" + std::to_string(c) + ".npy"); };
        std::vector<std::string> args;
        for (int c = 0; c < e.cases(); ++c) args.push_back(export_args(dir, e.text(c), out_of(c)));
        const std::vector<CommandResult> results = run_many(args);
        for (int c = 0; c < e.cases(); ++c) {
            INFO(dir.filename().string(), " case", c, ": ", e.text(c));
            const fs::path out = out_of(c);
            const CommandResult& r = results[size_t(c)];
            INFO("stderr: ", r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(r.out.empty());
            CHECK(r.err.empty());
            const NpyArray got = read_npy(out);
            const int64_t S = e.seq(c);
            CHECK(got.shape == std::vector<int64_t>{e.layers, e.heads, S, S});
            CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, S, range(e.layers),
                           range(e.heads)) <= 1e-5);
            check_rows(got);
        }
        // Only the requested files: no temporary left over.
        CHECK(entries(tmp.path).size() == size_t(e.cases()));
    }
}

TEST_CASE("export: the .npy file is float32, C order, 64-byte aligned header") {
    TempDir tmp;
    REQUIRE(run_cli(export_args(kTiny, kSeed, tmp / "a.npy")).exit_code == 0);
    const std::string bytes = read_file(tmp / "a.npy");
    REQUIRE(bytes.size() > 10);
    CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
    const size_t header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(bytes[10 + header_len - 1] == '\n');
    const std::string header = bytes.substr(10, header_len);
    CHECK(contains(header, "'descr': '<f4'"));
    CHECK(contains(header, "'fortran_order': False"));
    CHECK(contains(header, "'shape': (2, 3, 7, 7)"));
    CHECK(bytes.size() == 10 + header_len + 2 * 3 * 7 * 7 * 4);
}

TEST_CASE("export --layers/--heads pick the right slices") {
    struct Pick {
        const fs::path* dir;
        std::string options;
        std::vector<int> layers, heads;
    };
    const Pick picks[] = {
        {&kTiny, "--layers -1 --heads 0,2", {1}, {0, 2}},
        {&kTiny, "--layers 0-1", {0, 1}, {0, 1, 2}},
        {&kTiny, "--layers 0", {0}, {0, 1, 2}},
        {&kTiny, "--layers all --heads -1", {0, 1}, {2}},
        {&kTiny, "--layers 1,0,1 --heads 2,0", {0, 1}, {0, 2}},  // sorted, duplicates dropped
        {&kTiny, "--layers=-2--1 --heads=1-2", {0, 1}, {1, 2}},
        {&kDistil, "--layers 0,2 --heads 1-3", {0, 2}, {1, 2, 3}},
        {&kDistil, "--layers -2 --heads -4,-1", {1}, {0, 3}},
        {&kDistil, "--heads 2", {0, 1, 2}, {2}},
    };
    Expected tiny(kTiny), distil(kDistil);
    TempDir tmp;
    const auto out_of = [&](size_t i) { return tmp / ("pick" + std::to_string(i) + ".npy"); };
    const auto case_of = [](size_t i) { return i % 2 ? 4 : 0; };  // 7 and 16 tokens
    std::vector<std::string> args;
    for (size_t i = 0; i < std::size(picks); ++i) {
        const Expected& e = picks[i].dir == &kTiny ? tiny : distil;
        args.push_back(export_args(*picks[i].dir, e.text(case_of(i)), out_of(i), picks[i].options));
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < std::size(picks); ++i) {
        const Pick& p = picks[i];
        Expected& e = p.dir == &kTiny ? tiny : distil;
        const int c = case_of(i);
        INFO(p.dir->filename().string(), " ", p.options, " case", c);
        INFO("stderr: ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
        const NpyArray got = read_npy(out_of(i));
        const int64_t S = e.seq(c);
        CHECK(got.shape ==
              std::vector<int64_t>{int64_t(p.layers.size()), int64_t(p.heads.size()), S, S});
        CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, S, p.layers, p.heads) <= 1e-5);
        check_rows(got);
    }
    CHECK(entries(tmp.path).size() == std::size(picks));
}

TEST_CASE("export: --threads and --ring do not change the maps") {
    Expected e(kTiny);
    const std::vector<std::string> options = {"--threads 1 --ring 1", "--threads 3 --ring 4",
                                              "--threads=2"};
    TempDir tmp;
    std::vector<std::string> args;
    for (size_t i = 0; i < options.size(); ++i)
        args.push_back(
            export_args(kTiny, e.text(3), tmp / (std::to_string(i) + ".npy"), options[i]));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < options.size(); ++i) {
        INFO(options[i]);
        REQUIRE(results[i].exit_code == 0);
        const NpyArray got = read_npy(tmp / (std::to_string(i) + ".npy"));
        CHECK(max_diff(got, e.attentions(3), e.layers, e.heads, e.seq(3), range(e.layers),
                       range(e.heads)) <= 1e-5);
    }
}

TEST_CASE("export: a relative --out lands relative to the working directory") {
    // run_cli runs from the repo root: a path relative to it must reach the temp dir.
    TempDir tmp;
    const fs::path rel = fs::relative(tmp / "rel.npy", kSourceDir);
    const CommandResult r = run_cli(export_args(kTiny, "Hello", rel));
    CHECK(r.exit_code == 0);
    const NpyArray a = read_npy(tmp / "rel.npy");
    CHECK(a.shape == std::vector<int64_t>{2, 3, 1, 1});
    REQUIRE(a.values.size() == 6);
    for (float v : a.values) CHECK(v == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("export overwrites an existing output on success and keeps it on failure") {
    TempDir tmp;
    const fs::path out = tmp / "a.npy";
    write_file(out, "old contents");
    const CommandResult bad = run_cli(fast_export_args(kTiny, kSeed, out, "--layers 7"));
    check_error(bad, "layer 7 out of range");
    CHECK(read_file(out) == "old contents");
    CHECK(entries(tmp.path) == std::set<std::string>{"a.npy"});
    const CommandResult good = run_cli(export_args(kTiny, kSeed, out));
    CHECK(good.exit_code == 0);
    CHECK(read_npy(out).shape == std::vector<int64_t>{2, 3, 7, 7});
    CHECK(entries(tmp.path) == std::set<std::string>{"a.npy"});
}
