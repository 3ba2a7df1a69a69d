// headmap stats --texts (corpus mode) end to end: the mean over identical texts is the single-text
// value with std 0, the output does not depend on --threads, the three formats, --bench, the
// progress bar only on a terminal, and bad --texts files. bench-analysis prints its JSON lines.
#include <doctest/doctest.h>

#include <cstdlib>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

const fs::path kBertTiny = kTestData / "bert-tiny";  // F32, 2 layers x 2 heads, non-causal

std::string bert_opt() {
    return "--model " + quote(kBertTiny.string());
}

}  // namespace

TEST_CASE("stats --texts: two identical lines give the single-text values with std 0") {
    TempDir tmp;
    write_file(tmp / "twice.txt", kSeed + "\n\n" + kSeed + "\r\n");  // an empty line is skipped
    // The default model (weights/gpt2-tiny-headmap), as load_maps picks it.
    const std::vector<CommandResult> r = run_many({
        "stats --texts " + quote((tmp / "twice.txt").string()) + " --format json",
        "stats --text " + quote(kSeed) + " --format json",
        "stats --texts " + quote((tmp / "twice.txt").string()) + " --format json --words",
        "stats --text " + quote(kSeed) + " --format json --words",
    });
    for (int pair = 0; pair < 2; ++pair) {
        const CommandResult& corpus = r[size_t(2 * pair)];
        const CommandResult& single = r[size_t(2 * pair + 1)];
        INFO("words ", pair, " stderr: ", corpus.err, single.err);
        REQUIRE(corpus.exit_code == 0);
        REQUIRE(single.exit_code == 0);
        CHECK(corpus.err.empty());  // no progress bar: stderr is not a terminal
        const json c = json::parse(corpus.out), s = json::parse(single.out);
        CHECK(c["texts"] == 2);
        CHECK(c["causal"] == true);
        CHECK(contains(c["note"].get<std::string>(), "hubs"));
        REQUIRE(c["heads"].size() == 4 * 4);  // the default model: 4 layers x 4 heads
        REQUIRE(s["heads"].size() == c["heads"].size());
        for (size_t h = 0; h < c["heads"].size(); ++h) {
            const json& ch = c["heads"][h];
            const json& sh = s["heads"][h];
            CHECK(ch["layer"] == sh["layer"]);
            CHECK(ch["head"] == sh["head"]);
            CHECK(!ch.contains("column_sums"));
            REQUIRE(ch["mean"].size() == 12);
            for (const auto& [metric, mean] : ch["mean"].items()) {
                INFO("head ", h, " ", metric);
                CHECK(mean.get<double>() ==
                      doctest::Approx(sh[metric].get<double>()).epsilon(1e-9));
                CHECK(ch["std"][metric].get<double>() == 0.0);
            }
        }
    }
}

TEST_CASE("stats --texts: the same output for 1, 2 and 3 threads; table, csv and --bench") {
    TempDir tmp;
    const fs::path texts = tmp / "texts.txt";
    write_file(texts,
               "the quick brown fox jumps over the lazy dog\n"
               "hello world\n"
               "a sentence pair\tand its second half\n"
               "attention maps of every layer and head\n"
               "short\n");
    const std::string src = bert_opt() + " --texts " + quote(texts.string());
    const std::vector<CommandResult> r = run_many({
        "stats " + src + " --format json --threads 1",
        "stats " + src + " --format json --threads 2",
        "stats " + src + " --format json --threads 3",
        "stats " + src + " --threads 2",
        "stats " + src + " --format csv --threads 2 --layers -1 --heads 1",
        "stats " + src + " --bench --threads 2",
    });
    for (const CommandResult& one : r) {
        INFO("stderr: ", one.err);
        REQUIRE(one.exit_code == 0);
    }
    CHECK(r[0].out == r[1].out);
    CHECK(r[0].out == r[2].out);
    const json j = json::parse(r[0].out);
    CHECK(j["texts"] == 5);
    CHECK(j["causal"] == false);
    REQUIRE(j["heads"].size() == 2 * 2);
    bool some_spread = false;
    for (const json& head : j["heads"]) {
        // Local + medium + global mass is 1 in every text, so its mean is 1.
        const double mass = head["mean"]["local"].get<double>() +
                            head["mean"]["medium"].get<double>() +
                            head["mean"]["global"].get<double>();
        CHECK(mass == doctest::Approx(1.0).epsilon(1e-6));
        some_spread = some_spread || head["std"]["entropy"].get<double>() > 1e-3;
    }
    CHECK(some_spread);  // five different texts: the entropy varies
    // The table: a note, a header, one "mean±std" line per head.
    CHECK(r[3].out.rfind("# bert-tiny: 5 texts;", 0) == 0);
    CHECK(contains(r[3].out, "hubs (column sums) are left out"));
    CHECK(std::count(r[3].out.begin(), r[3].out.end(), '\n') == 2 + 4);
    CHECK(contains(r[3].out, "\u00b1"));
    // CSV: metric_mean and metric_std columns, one selected head.
    CHECK(r[4].out.rfind("layer,head,entropy_mean,entropy_std,normalized_entropy_mean", 0) == 0);
    CHECK(std::count(r[4].out.begin(), r[4].out.end(), '\n') == 2);
    CHECK(contains(r[4].out, "\n1,1,"));
    // --bench: one JSON line.
    const json bench = json::parse(r[5].out);
    CHECK(bench["impl"] == "headmap");
    CHECK(bench["texts"] == 5);
    CHECK(bench["threads"] == 2);
    CHECK(bench["sentences_per_s"].get<double>() > 0.0);
    CHECK(bench["tokens"].get<int>() > 5);
}

TEST_CASE("stats --texts draws a progress bar on stderr only when it is a terminal") {
    REQUIRE(std::system("command -v script >/dev/null 2>&1") == 0);  // util-linux, in Debian
    TempDir tmp;
    write_file(tmp / "texts.txt", "hello world\nsecond text\nthird\n");
    // script(1) runs the CLI on a pseudo-terminal: stdout goes to a file, stderr stays on it.
    const std::string cli = std::string(HEADMAP_CLI) + " stats " + bert_opt() + " --texts " +
                            quote((tmp / "texts.txt").string()) + " --format csv > " +
                            quote((tmp / "table.csv").string());
    const std::string command = "cd " + quote(kSourceDir.string()) + " && script -qec " +
                                quote(cli) + " /dev/null > " + quote((tmp / "tty.txt").string());
    REQUIRE(std::system(command.c_str()) == 0);
    const std::string terminal = read_file(tmp / "tty.txt");
    INFO("terminal: ", terminal);
    CHECK(contains(terminal, "3/3 texts"));
    CHECK(contains(terminal, "[##########"));
    const std::string table = read_file(tmp / "table.csv");
    CHECK(table.rfind("layer,head,entropy_mean", 0) == 0);
    CHECK(!contains(table, "texts"));  // nothing of the bar in the table
}

TEST_CASE("stats --texts: missing or empty files and clashing options exit 2 with one line") {
    TempDir tmp;
    write_file(tmp / "empty.txt", "\n\r\n\n");
    const std::vector<CommandResult> r = run_many({
        "stats " + bert_opt() + " --texts " + quote((tmp / "missing.txt").string()),
        "stats " + bert_opt() + " --texts " + quote((tmp / "empty.txt").string()),
        "stats " + bert_opt() + " --texts " + quote(tmp.path.string()),
        "stats " + bert_opt() + " --text hello --bench",
        "stats --from " + quote((tmp / "maps.npy").string()) + " --texts " +
            quote((tmp / "empty.txt").string()),
        "stats " + bert_opt() + " --texts " + quote((tmp / "empty.txt").string()) + " --text hello",
    });
    check_error(r[0], "missing.txt: cannot read");
    check_error(r[1], "no texts");
    check_error(r[2], "cannot read");
    check_error(r[3], "--bench");
    check_error(r[4], "--from");
    check_error(r[5], "--texts");
}

TEST_CASE("bench-analysis prints one JSON line per entry and mode; unknown entries exit 2") {
    const std::vector<CommandResult> r = run_many({
        "bench-analysis --seq 64 --heads 3 --runs 2 --threads 2 --entries stats,stats_reference",
        "bench-analysis --entries nonsense",
    });
    REQUIRE(r[0].exit_code == 0);
    std::vector<json> lines;
    std::stringstream out(r[0].out);
    for (std::string line; std::getline(out, line);) lines.push_back(json::parse(line));
    REQUIRE(lines.size() == 4);  // 2 entries x (causal, not)
    CHECK(lines[0]["analysis"] == "stats");
    CHECK(lines[0]["causal"] == true);
    CHECK(lines[0]["threads"] == 2);
    CHECK(lines[1]["analysis"] == "stats_reference");
    CHECK(lines[1]["threads"] == 1);
    CHECK(lines[3]["causal"] == false);
    for (const json& line : lines) {
        CHECK(line["seq"] == 64);
        CHECK(line["heads"] == 3);
        CHECK(line["ms"].get<double>() >= line["min_ms"].get<double>());
        CHECK(line["min_ms"].get<double>() >= 0.0);
        CHECK(line["cpu_ms"].get<double>() >= 0.0);
    }
    check_error(r[1], "unknown entry 'nonsense'");
}

TEST_CASE(
    "stats --from saved maps: a causal mask is recognised, so the numbers match the model's") {
    TempDir tmp;
    const std::string gpt2 = quote((tmp / "gpt2.npy").string());
    const std::string bert = quote((tmp / "bert.npy").string());
    const std::vector<CommandResult> r = run_many({
        "export --model weights/gpt2-tiny-headmap --text " + quote(kSeed) + " --out " + gpt2,
        "export --model " + quote(kBertTiny.string()) + " --text " + quote(kSeed) + " --out " +
            bert,
    });
    for (const CommandResult& c : r) REQUIRE(c.exit_code == 0);
    const std::vector<CommandResult> s = run_many({
        "stats --from " + gpt2 + " --format json",
        "stats --text " + quote(kSeed) + " --format json",
        "stats --from " + bert + " --format json",
        "stats --model " + quote(kBertTiny.string()) + " --text " + quote(kSeed) + " --format json",
    });
    for (int pair = 0; pair < 2; ++pair) {
        const CommandResult& saved = s[size_t(2 * pair)];
        const CommandResult& direct = s[size_t(2 * pair + 1)];
        INFO("pair ", pair, " stderr: ", saved.err, direct.err);
        REQUIRE(saved.exit_code == 0);
        REQUIRE(direct.exit_code == 0);
        const json a = json::parse(saved.out), b = json::parse(direct.out);
        CHECK(a["causal"] == (pair == 0));
        CHECK(a["causal"] == b["causal"]);
        REQUIRE(a["heads"].size() == b["heads"].size());
        for (size_t h = 0; h < a["heads"].size(); ++h)
            for (const char* metric : {"sparsity", "entropy", "top5_mass", "distance"}) {
                INFO("head ", h, " ", metric);
                CHECK(a["heads"][h][metric].get<double>() ==
                      doctest::Approx(b["heads"][h][metric].get<double>()).epsilon(1e-9));
            }
    }
}
