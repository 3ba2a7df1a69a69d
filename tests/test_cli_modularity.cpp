// headmap modularity end to end: Q and communities per head (checked against the engine on the
// exported maps), the table/CSV/JSON formats, the chart in three formats, and bad input.
#include <doctest/doctest.h>

#include <cstring>

#include "cli_test_support.h"
#include "engine/analysis/modularity.h"

using namespace cli_test;

namespace {

const fs::path kFixtureMaps = kTestData / "modularity" / "maps.npy";  // (12, 29, 29)

std::string tiny_source() {
    return "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(kSeed);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("modularity --format json: Q and communities of every head, as the engine computes") {
    TempDir tmp;
    const fs::path exported = tmp / "attn.npy";
    const std::vector<CommandResult> r = run_many({
        "modularity " + tiny_source() + " --format json",
        export_args(kTiny, kSeed, exported),
    });
    INFO("stderr: ", r[0].err, r[1].err);
    REQUIRE(r[0].exit_code == 0);
    REQUIRE(r[1].exit_code == 0);
    const json out = json::parse(r[0].out);
    CHECK(out["causal"] == true);
    CHECK(out["seq"] == 7);
    const NpyArray maps = read_npy(exported);  // (2, 3, 7, 7)
    REQUIRE(maps.shape == std::vector<int64_t>{2, 3, 7, 7});
    REQUIRE(out["heads"].size() == 6);
    REQUIRE(out["layers"].size() == 2);
    for (size_t i = 0; i < 6; ++i) {
        const json& head = out["heads"][i];
        CHECK(head["layer"] == int(i / 3));
        CHECK(head["head"] == int(i % 3));
        const std::vector<int> labels = head["community"].get<std::vector<int>>();
        REQUIRE(labels.size() == 7);
        // Labels numbered by first token; the count is how many there are.
        int next = 0;
        for (int c : labels) {
            CHECK(c <= next);
            if (c == next) ++next;
        }
        CHECK(head["communities"] == next);
        // Q of the printed partition on the exported map's token graph is the printed Q.
        const auto map = std::span<const float>(maps.values).subspan(i * 49, 49);
        const std::vector<double> graph = headmap::analysis::attention_graph(map, 7, true);
        const double q = head["modularity"].get<double>();
        CHECK(std::fabs(headmap::analysis::modularity(graph, 7, labels) - q) <= 1e-12);
        CHECK(q == headmap::analysis::louvain(graph, 7).modularity);
    }
    for (size_t l = 0; l < 2; ++l) {
        double sum = 0;
        for (size_t h = 0; h < 3; ++h) sum += out["heads"][l * 3 + h]["modularity"].get<double>();
        CHECK(out["layers"][l]["layer"] == int(l));
        CHECK(out["layers"][l]["mean_modularity"].get<double>() == doctest::Approx(sum / 3));
    }
}

TEST_CASE("modularity table and csv agree with json; saved maps; threads do not matter") {
    const std::string from = "--from " + quote(kFixtureMaps.string());
    const std::vector<CommandResult> r = run_many({
        "modularity " + tiny_source() + " --layers -1 --heads 0,2",
        "modularity " + tiny_source() + " --format csv --threads 1",
        "modularity " + tiny_source() + " --format csv --threads 2",
        "modularity " + from + " --format json --threads 2",
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
        CHECK(c.err.empty());
    }
    const std::vector<std::string> table = lines_of(r[0].out);
    REQUIRE(table.size() == 3);  // header + layer 1 heads 0 and 2
    CHECK(table[0] == "layer head modularity communities");
    int layer = -1, head = -1, count = 0;
    double q = 0;
    REQUIRE(std::sscanf(table[2].c_str(), "%d %d %lf %d", &layer, &head, &q, &count) == 4);
    CHECK(layer == 1);
    CHECK(head == 2);
    const std::vector<std::string> csv = lines_of(r[1].out);
    REQUIRE(csv.size() == 1 + 6);
    CHECK(csv[0] == "layer,head,modularity,communities");
    int layer2 = -1, head2 = -1, count2 = 0;
    double q2 = 0;
    REQUIRE(std::sscanf(csv[6].c_str(), "%d,%d,%lf,%d", &layer2, &head2, &q2, &count2) == 4);
    CHECK(layer2 == 1);
    CHECK(head2 == 2);
    CHECK(q2 == doctest::Approx(q).epsilon(1e-6));  // the table rounds to 6 decimals
    CHECK(count2 == count);
    CHECK(r[1].out == r[2].out);
    // Saved maps: the 12 maps of the networkx fixture give the partitions pinned there.
    const json fixture = read_json(kTestData / "modularity" / "expected.json");
    const json out = json::parse(r[3].out);
    CHECK(out["causal"] == false);  // saved maps carry no mask; their upper triangles are 0
    REQUIRE(out["heads"].size() == fixture["maps"].size());
    for (size_t m = 0; m < fixture["maps"].size(); ++m) {
        CHECK(out["heads"][m]["community"] == fixture["maps"][m]["headmap_labels"]);
        CHECK(std::fabs(out["heads"][m]["modularity"].get<double>() -
                        fixture["maps"][m]["headmap_networkx_q"].get<double>()) <= 1e-12);
    }
}

TEST_CASE("modularity --out draws modularity by layer as PNG, SVG and PDF") {
    TempDir tmp;
    const std::vector<CommandResult> r = run_many({
        "modularity " + tiny_source() + " --out " + quote((tmp / "mod.png").string()),
        "modularity " + tiny_source() + " --format csv --out " + quote((tmp / "mod.svg").string()),
        "modularity " + tiny_source() + " --title 'Q per head' --out " +
            quote((tmp / "mod.pdf").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
        CHECK(lines_of(c.out).size() == 1 + 6);  // the table is printed too
    }
    const std::string png = read_file(tmp / "mod.png");
    REQUIRE(png.size() > 1000);
    CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    const std::string svg = read_file(tmp / "mod.svg");
    CHECK(contains(svg, "<svg"));
    CHECK(contains(svg, "modularity by layer"));
    CHECK(contains(svg, "modularity Q"));
    CHECK(contains(svg, "mean of heads"));
    // 6 head points and a 2-point mean line: at least 8 markers.
    size_t circles = 0;
    for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1))
        ++circles;
    CHECK(circles >= 8);
    const std::string pdf = read_file(tmp / "mod.pdf");
    CHECK(pdf.rfind("%PDF-", 0) == 0);
    CHECK(contains(pdf, "%%EOF"));
}

TEST_CASE("modularity: bad input exits 2 with one line and writes nothing") {
    TempDir tmp;
    // The fixture maps with one negative weight: map 3, entry (5, 2).
    std::string bytes = read_file(kFixtureMaps);
    REQUIRE(bytes.size() > 10);
    const size_t data = 10 + (uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8));
    const float negative = -0.25f;
    std::memcpy(&bytes[data + 4 * ((3 * 29 + 5) * 29 + 2)], &negative, 4);
    write_file(tmp / "negative.npy", bytes);
    const std::string src = tiny_source();
    const std::vector<CommandResult> r = run_many({
        "modularity " + src + " --format xml --out " + quote((tmp / "a.png").string()),
        "modularity " + src + " --out " + quote((tmp / "b.txt").string()),
        "modularity --from " + quote((tmp / "negative.npy").string()) + " --out " +
            quote((tmp / "c.png").string()),
        "modularity " + src + " --heads 7",
        "modularity " + src + " --threads -3",
        "modularity " + src + " --resolution 2",
        "modularityy",
        "--help",
    });
    check_error(r[0], "--format 'xml'");
    check_no_output(tmp / "a.png");
    check_error(r[1], "unsupported image format");
    check_no_output(tmp / "b.txt");
    check_error(r[2], "map 3 entry (5, 2)");
    check_error(r[2], "expected finite attention weights >= 0");
    check_no_output(tmp / "c.png");
    check_error(r[3], "head");
    check_error(r[4], "--threads");
    check_error(r[5], "--resolution");
    check_error(r[6], "unknown command 'modularityy'");
    CHECK((contains(r[6].err, " modularity,") || contains(r[6].err, " modularity or")));
    CHECK(r[7].exit_code == 0);
    CHECK(contains(r[7].out, "  modularity   "));
}
