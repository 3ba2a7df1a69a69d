// End-to-end tests of the headmap CLI on bad arguments and messages: unknown commands and
// options, repeated options and missing values, error lines that stay one short line whatever
// they quote, and bad make-random and bench options. Each ends in exactly one
// "headmap: error: ..." line, exit code 2, and no output left behind (test_cli_bad_input covers
// bad checkpoints, configs, tokenizer files and output paths).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "cli_test_support.h"
#include "test_support.h"

using namespace cli_test;

TEST_CASE("unknown command, unknown option, and other argument errors") {
    check_error(run_cli("frobnicate --model x"), "unknown command 'frobnicate'");
    check_error(run_cli("tokenize --bogus 1"), "unknown option '--bogus'");
    check_error(run_cli("export --model " + quote(kTiny.string()) + " --colour red"),
                "unknown option '--colour'");
    check_error(run_cli("tokenize --model"), "--model needs a value");
    check_error(run_cli("tokenize --model " + quote(kTiny.string()) + " " + tok_opt() +
                        " --text x --tokens=yes"),
                "--tokens takes no value");
    check_error(run_cli("tokenize stray"), "unexpected argument 'stray'");
    {
        // tokenize and export take the views' default model (they demanded --model before).
        const CommandResult plain = run_cli("tokenize --text x");
        const CommandResult named = run_cli("tokenize --model weights/gpt2-tiny-headmap --text x");
        CHECK(plain.exit_code == 0);
        CHECK(plain.out == named.out);
        CHECK(!plain.out.empty());
    }
    check_error(run_cli("tokenize --model " + quote(kTiny.string()) + " " + tok_opt()),
                "needs --text");
    check_error(run_cli("export -o x.npy"), "unexpected argument '-o'");
    // A value-taking option followed by another option has no value (it used to take the
    // option's name as its value); an option read once but given twice is an error (the last
    // one used to win in silence).
    check_error(run_cli("heatmap --text hi --layer --head 0 --out x.png"),
                "option --layer needs a value (found the option --head");
    check_error(run_cli("tokenize --model " + quote(kTiny.string()) + " " + tok_opt() +
                        " --text a --text b"),
                "option --text given 2 times (expected once)");
    // ... while a value that only looks like an option is still a value, and --name=VALUE
    // takes anything.
    const std::string tiny = "tokenize --model " + quote(kTiny.string()) + " " + tok_opt();
    const CommandResult dashes = run_cli(tiny + " --text --nonsense");
    const CommandResult equals = run_cli(tiny + " --text=--model");
    CHECK(dashes.exit_code == 0);
    CHECK(equals.exit_code == 0);
    CHECK(dashes.out == run_cli(tiny + " --text=--nonsense").out);
    // Numbers print as written and are read as doubles: 1e-300 is below 0.05, not "not a number".
    check_error(run_cli("heatmap --text hi --gamma 1e-300 --out x.png"),
                "--gamma '1e-300' is not a number in 0.05..20");

    const CommandResult none = run_cli("");
    CHECK(none.exit_code == 2);
    CHECK(contains(none.err, "usage: headmap"));
    CHECK(none.out.empty());
    const CommandResult help = run_cli("--help");
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "usage: headmap"));
    CHECK(help.err.empty());
}

TEST_CASE("error messages stay one line when the input holds newlines") {
    // Values come from the user; a newline in them must not split the error line.
    TempDir tmp;
    // (quote() keeps the newline inside single quotes: one argument for any POSIX sh.)
    check_error(run_cli(quote("frob\nnicate")), "unknown command");
    check_error(run_cli("tokenize " + quote("--bo\ngus") + " 1"), "unknown option");
    check_error(run_cli("tokenize " + quote("stray\nline")), "unexpected argument");
    check_error(run_cli(fast_export_args(kTiny, kSeed, tmp / "a.npy", "--layers " + quote("1\n2"))),
                "layer");
    check_error(run_cli(fast_export_args(kTiny, kSeed, tmp / "bad\nname.txt")), ".npy");
    check_error(run_cli("bench --config " + quote("no\npe")), "unknown config");
    check_error(run_cli("tokenize --model " + quote("no\nsuch/dir") + " --text x"), "not found");
    CHECK(entries(tmp.path).empty());
}

TEST_CASE("error messages quoting file contents: control bytes escaped, megabyte lines cut") {
    // A merges.txt line whose first token holds a vertical tab, an escape, a NUL and 100,000
    // more bytes: the error quotes it, and must stay one short line that still ends with what
    // was expected.
    TempDir tok;
    fs::copy_file(byte_tokenizer() / "vocab.json", tok / "vocab.json");
    std::string token = "a\v\x1b";
    token += '\0';
    token += std::string(100000, 'a');
    write_file(tok / "merges.txt", "#version: 0.2\n" + token + " b\n");
    const CommandResult r = run_cli("tokenize --model " + quote(kTiny.string()) + " --tokenizer " +
                                    quote(tok.path.string()) + " --text x");
    check_error(r, "merges.txt");
    CHECK(r.err.size() < 1200);
    CHECK(contains(r.err, "a\\x0b\\x1b\\x00aaa"));
    CHECK(contains(r.err, " bytes left out ...] "));
    CHECK(std::none_of(r.err.begin(), r.err.end() - 1,
                       [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
}

// ============================================================================================
// 4. make-random, 5. bench
// ============================================================================================

TEST_CASE("make-random: bad options exit 2 with one line and create no output directory") {
    TempDir tmp;
    const fs::path out = tmp / "random-model";
    check_error(run_cli("make-random --config nope --out " + quote(out.string())),
                "unknown config 'nope'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2-large --out " + quote(out.string())),
                "unknown config 'gpt2-large'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2 --dtype f8 --out " + quote(out.string())),
                "--dtype 'f8'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --out " + quote(out.string()) + " --layers 3"),
                "unknown option '--layers'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2"), "needs --out");
    check_error(run_cli("make-random --config minilm --tokenizer " +
                        quote((tmp / "no-tokenizer").string()) + " --out " + quote(out.string())),
                "no tokenizer files");
    CHECK(entries(tmp.path).empty());
}

TEST_CASE("make-random: a failed write removes what the run wrote") {
    // config.json cannot be written (a directory stands there) after model.safetensors was: the
    // run fails and takes model.safetensors back out of the folder, which existed before it.
    TempDir tmp;
    fs::create_directories(tmp / "config.json");
    check_error(run_cli("make-random --config minilm --out " + quote(tmp.path.string())),
                "config.json");
    CHECK(entries(tmp.path) == std::set<std::string>{"config.json"});
}

TEST_CASE("make-random: a bad --seed fails before the output directory is created") {
    TempDir tmp;
    for (const std::string seed : {"-5", "x", "2000000000"}) {
        INFO("--seed ", seed);
        const fs::path out = tmp / ("random-model-seed" + seed);
        check_error(run_cli("make-random --seed " + seed + " --out " + quote(out.string())),
                    "--seed");
        CHECK(!fs::exists(out));
    }
}

TEST_CASE("bench: bad options exit 2 with one line") {
    check_error(run_cli("bench --config nope"), "unknown config 'nope'");
    check_error(run_cli("bench --seq 0"), "'0' is not an integer in 1..1024");
    check_error(run_cli("bench --seq 64,0"), "'0'");
    check_error(run_cli("bench --seq 2048"), "'2048'");
    check_error(run_cli("bench --seq 64,,128"), "--seq");
    check_error(run_cli("bench --seq abc"), "'abc'");
    check_error(run_cli("bench --runs 0"), "--runs");
    check_error(run_cli("bench --threads -2"), "--threads");
    check_error(run_cli("bench --ring 0"), "--ring");
    check_error(run_cli("bench --text hello"), "unknown option '--text'");
}