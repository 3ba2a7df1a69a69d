// End-to-end tests of the headmap CLI on arguments and messages: the help and --version, which
// are generated from the option and command tables (tools/cli/options.h), suggestions for misspelt
// options and commands, unknown commands and options, repeated options and missing values, error
// lines that stay one short line whatever they quote, and bad make-random and bench options. Each
// error ends in exactly one "headmap: error: ..." line, exit code 2, and no output left behind
// (test_cli_bad_input covers bad checkpoints, configs, tokenizer files and output paths).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "cli_test_support.h"
#include "test_support.h"
#include "tools/cli/args.h"
#include "tools/cli/options.h"

using namespace cli_test;
namespace cli = headmap::cli;

namespace {

// Runs of spaces and newlines as one space: help wraps its lines at 100 columns.
std::string squeezed(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool blank = c == ' ' || c == '\n';
        if (!blank)
            out += c;
        else if (!out.empty() && out.back() != ' ')
            out += ' ';
    }
    return out;
}

// The lines of `help` that describe --name: from "\n  --name" to the next option or section.
std::string option_entry(const std::string& help, std::string_view name) {
    const std::string head = "\n  --" + std::string(name);
    for (size_t at = help.find(head); at != std::string::npos; at = help.find(head, at + 1)) {
        const size_t after = at + head.size();
        if (after < help.size() && help[after] != ' ' && help[after] != '\n') continue;  // --head2
        size_t end = help.find("\n  -", after);
        end = std::min(end, help.find("\n\n", after));
        return squeezed(help.substr(at + 1, end - at - 1));
    }
    return "";
}

// Every "--name" an entry of `help` starts with.
std::set<std::string> listed_options(const std::string& help) {
    std::set<std::string> names;
    const std::regex entry("\n  --([a-z0-9-]+)");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), entry);
         it != std::sregex_iterator(); ++it)
        names.insert((*it)[1]);
    return names;
}

}  // namespace

// ============================================================================================
// 1. Help, --version and suggestions
// ============================================================================================

TEST_CASE("the option table is consistent: scopes, groups, defaults and one row per name") {
    std::set<std::string_view> commands, groups;
    for (const cli::Command& c : cli::command_table()) {
        CHECK(commands.insert(c.name).second);
        CHECK(!c.summary.empty());
        CHECK(bool(c.run));
    }
    for (const cli::OptionGroup& g : cli::option_groups()) {
        CHECK(groups.insert(g.name).second);
        CHECK(!commands.count(g.name));
    }
    for (const cli::Command& c : cli::command_table())
        for (std::string_view g : cli::names_in(c.groups)) {
            CAPTURE(c.name);
            CHECK(groups.count(g));
        }
    for (const cli::Option& o : cli::option_table()) {
        CAPTURE(o.name);
        CHECK(!o.scope.empty());
        for (std::string_view scope : cli::names_in(o.scope))
            CHECK((commands.count(scope) || groups.count(scope)));
        CHECK(!o.help.empty());
        CHECK(o.help.find('\n') == std::string_view::npos);
        // A value has a default (or "none", "required"); a flag is off unless given.
        CHECK(o.fallback.empty() == (o.type == cli::ValueType::Flag));
    }
    for (const cli::Command& c : cli::command_table()) {
        CAPTURE(c.name);
        CHECK_NOTHROW(cli::options_of(c));  // no name twice at the same level
        CHECK(!cli::options_of(c).empty());
    }
}

TEST_CASE("every command's --help lists each option it accepts with its type, default and help") {
    std::vector<std::string> calls;
    for (const cli::Command& c : cli::command_table())
        for (const char* help : {" --help", " -h"}) calls.push_back(std::string(c.name) + help);
    const std::vector<CommandResult> results = run_many(calls);
    size_t i = 0;
    for (const cli::Command& c : cli::command_table()) {
        CAPTURE(c.name);
        const CommandResult& r = results[i];
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(r.out.rfind("usage: headmap " + std::string(c.name) + " ", 0) == 0);
        CHECK(contains(r.out, std::string(c.summary)));
        CHECK(results[i + 1].out == r.out);  // -h
        i += 2;
        const std::vector<const cli::Option*> options = cli::options_of(c);
        std::set<std::string> accepted;
        for (const cli::Option* o : options) {
            CAPTURE(o->name);
            accepted.insert(std::string(o->name));
            // The command takes it: as a flag, or with a value.
            const bool flag = o->type == cli::ValueType::Flag;
            const std::string dashed = "--" + std::string(o->name);
            const cli::Args args(
                c, flag ? std::vector<std::string>{dashed} : std::vector<std::string>{dashed, "1"});
            CHECK((flag ? args.flag(std::string(o->name))
                        : args.get_all(std::string(o->name)) == std::vector<std::string>{"1"}));
            // ... and its help says so, with the type and default, once.
            const std::string entry = option_entry(r.out, o->name);
            INFO("entry: [", entry, "]");
            CHECK(contains(entry, squeezed(std::string(o->help))));
            CHECK(contains(entry, cli::type_and_default(*o)));
            if (o->fallback == "required")
                CHECK(contains(entry, "required)"));
            else if (!o->fallback.empty())
                CHECK(contains(entry, "default: " + squeezed(std::string(o->fallback)) + ")"));
        }
        // Nothing listed that the command does not take, and nothing taken that is not listed.
        CHECK(listed_options(r.out) == accepted);
    }
}

TEST_CASE("headmap --help, -h and help list every command with its summary; --version") {
    const std::vector<CommandResult> r =
        run_many({"--help", "-h", "help", "", "--version", "help heatmap", "heatmap --help"});
    for (size_t i = 0; i < 3; ++i) {
        CHECK(r[i].exit_code == 0);
        CHECK(r[i].err.empty());
        CHECK(r[i].out == r[0].out);
    }
    for (const cli::Command& c : cli::command_table()) {
        CAPTURE(c.name);
        // "  NAME   summary" (the summary may wrap).
        const std::regex line("\n  " + std::string(c.name) + " +" +
                              std::regex_replace(std::string(c.summary).substr(0, 20),
                                                 std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"));
        CHECK(std::regex_search(r[0].out, line));
    }
    CHECK(contains(r[0].out, "headmap COMMAND --help"));
    CHECK(contains(r[0].out, "headmap --version"));
    // No command: the usage, as an error.
    CHECK(r[3].exit_code == 2);
    CHECK(r[3].out.empty());
    CHECK(r[3].err == r[0].out);
    // The version is the project's (CMakeLists.txt), three numbers.
    CHECK(r[4].exit_code == 0);
    CHECK(r[4].err.empty());
    CHECK(r[4].out == std::string("headmap ") + HEADMAP_VERSION + "\n");
    CHECK(std::regex_match(std::string(HEADMAP_VERSION), std::regex(R"(\d+\.\d+\.\d+)")));
    CHECK(r[5].exit_code == 0);
    CHECK(r[5].out == r[6].out);
}

TEST_CASE("heatmap --help documents the drawing options no help used to mention") {
    const CommandResult r = run_cli("heatmap --help");
    CHECK(r.exit_code == 0);
    for (const char* name : {"--vmin", "--vmax", "--label-interval", "--length-threshold",
                             "--no-colorbar", "--x-label", "--y-label", "--title", "--region"}) {
        CAPTURE(name);
        CHECK(contains(r.out, std::string("\n  ") + name + " "));
    }
    CHECK(contains(option_entry(r.out, "vmin"), "default: the map's minimum"));
    CHECK(contains(option_entry(r.out, "region"), "repeatable"));
    CHECK(contains(option_entry(r.out, "out"), "required"));
    // Help wins wherever an option may stand, after other options too.
    const CommandResult late = run_cli("heatmap --text hi --layer 0 -h");
    CHECK(late.exit_code == 0);
    CHECK(late.out == r.out);
}

TEST_CASE("a misspelt option or command gets the nearest one suggested, on the one error line") {
    check_errors({
        {"heatmap --colormp magma --text hi --out x.png",
         "unknown option '--colormp' for 'heatmap' (did you mean --colormap?"},
        {"heatmap --color magma", "did you mean --colormap?"},  // an abbreviation
        {"grid --layer 0 --text hi --out x.png", "did you mean --layers?"},
        {"heatmap --lable-interval 3", "did you mean --label-interval?"},
        {"modularity --hepl", "did you mean --help?"},
        {"hetamap --text hi", "unknown command 'hetamap' (did you mean heatmap?"},
        {"bench-analysys", "did you mean bench-analysis?"},
    });
    // Nothing near: no guess, the full list as before.
    const CommandResult far = run_cli("tokenize --bogus 1");
    check_error(far, "unknown option '--bogus' for 'tokenize' (expected one of: --device, ");
    CHECK(!contains(far.err, "did you mean"));
    const CommandResult command = run_cli("frobnicate");
    check_error(command, "unknown command 'frobnicate' (expected tokenize, export, ");
    CHECK(!contains(command.err, "did you mean"));
    // The help flag takes no value, and is an option, not a value, after a valued option.
    check_errors({
        {"heatmap --help=yes", "option --help takes no value"},
        {"heatmap --text --help", "option --text needs a value (found the option --help"},
    });
}

TEST_CASE("README.md names every option of the table") {
    const std::string readme = read_file(kSourceDir / "README.md");
    for (const cli::Option& o : cli::option_table()) {
        CAPTURE(o.name);
        CHECK(std::regex_search(readme, std::regex("--" + std::string(o.name) + "([^a-z0-9-]|$)")));
    }
    CHECK(contains(readme, "headmap CMD --help"));
    CHECK(contains(readme, "headmap --version"));
}

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