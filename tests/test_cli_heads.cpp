// headmap heads (ranking, Ward clusters with medoids, the PCA scatter) and grid --rank end to end:
// the ranking agrees with stats, clusters partition the heads, the scatter writes every format,
// grid outlines and sorts the right heads, and bad input fails cleanly.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

const std::string kSource =
    "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(kSeed);
const std::string kRun0 = "--from " + quote((kTestData / "golden" / "run0.npy").string());

struct HeadValue {
    int layer, head;
    double value;
};

// stats --format json's values of one metric, in the order the ranking must give: by value
// (descending, or ascending), ties by layer then head.
std::vector<HeadValue> expected_order(const json& stats, const std::string& metric,
                                      bool ascending) {
    std::vector<HeadValue> heads;
    for (const json& h : stats["heads"])
        heads.push_back({h["layer"].get<int>(), h["head"].get<int>(), h[metric].get<double>()});
    std::stable_sort(heads.begin(), heads.end(), [&](const HeadValue& a, const HeadValue& b) {
        return ascending ? a.value < b.value : a.value > b.value;
    });
    return heads;
}

struct SvgRect {
    double x, y, w, h;
};
struct SvgText {
    double x, y, size;
    std::string text;
};

std::vector<SvgRect> svg_rects_with_stroke(const std::string& svg, const std::string& stroke) {
    std::vector<SvgRect> out;
    const std::regex rect(
        "<rect x=\"([-0-9.]+)\" y=\"([-0-9.]+)\" width=\"([0-9.]+)\" "
        "height=\"([0-9.]+)\" fill=\"none\" stroke=\"" +
        stroke + "\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator();
         ++it)
        out.push_back(
            {std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[4])});
    return out;
}

std::vector<SvgText> svg_texts(const std::string& svg) {
    std::vector<SvgText> out;
    const std::regex text(
        "<text[^>]* x=\"([-0-9.]+)\" y=\"([-0-9.]+)\"[^>]* font-size=\"([0-9.]+)\""
        "[^>]*>([^<]*)</text>");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator();
         ++it)
        out.push_back({std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), (*it)[4]});
    return out;
}

// The label among `names` whose text lies nearest to `coordinate` (x for columns, y for rows).
std::string nearest(const std::vector<SvgText>& texts, const std::set<std::string>& names,
                    double coordinate, bool by_x) {
    std::string best;
    double distance = INFINITY;
    for (const SvgText& t : texts) {
        if (!names.count(t.text) || t.size != 11) continue;
        const double d = std::fabs((by_x ? t.x : t.y) - coordinate);
        if (d < distance) distance = d, best = t.text;
    }
    return best;
}

std::string head_label(int head) {
    std::string text = "H";  // built piecewise: GCC 12 warns falsely on "H" + string
    text += std::to_string(head);
    return text;
}

}  // namespace

TEST_CASE("heads --rank: the order of stats' values; --top, --ascending, table and csv") {
    const std::vector<CommandResult> r = run_many({
        "stats " + kSource + " --format json",
        "heads " + kSource + " --rank entropy --format json",
        "heads " + kSource + " --rank self --ascending --top 3 --format json",
        "heads " + kSource + " --rank distance --top 4",
        "heads " + kSource + " --rank first --format csv",
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const json stats = json::parse(r[0].out);
    REQUIRE(stats["heads"].size() == 6);
    for (const auto& [index, metric, ascending, count] :
         {std::tuple{1, "entropy", false, 6}, std::tuple{2, "self", true, 3}}) {
        CAPTURE(metric);
        const json out = json::parse(r[size_t(index)].out);
        CHECK(out["texts"] == 1);
        CHECK(out["ranking"]["metric"] == metric);
        CHECK(out["ranking"]["ascending"] == ascending);
        const json& ranked = out["ranking"]["heads"];
        const std::vector<HeadValue> want = expected_order(stats, metric, ascending);
        REQUIRE(ranked.size() == size_t(count));
        for (size_t i = 0; i < ranked.size(); ++i) {
            CHECK(ranked[i]["rank"] == i + 1);
            CHECK(ranked[i]["layer"] == want[i].layer);
            CHECK(ranked[i]["head"] == want[i].head);
            CHECK(ranked[i]["value"].get<double>() == want[i].value);
            CHECK(!ranked[i].contains("std"));  // one text: no spread to report
        }
    }
    // Table: header + 4 rows, the first row the largest distance.
    CHECK(std::count(r[3].out.begin(), r[3].out.end(), '\n') == 1 + 4);
    CHECK(r[3].out.rfind("rank layer head distance\n", 0) == 0);
    const HeadValue top = expected_order(stats, "distance", false).front();
    int rank = 0, layer = -1, head = -1;
    REQUIRE(std::sscanf(r[3].out.c_str() + r[3].out.find('\n') + 1, "%d %d %d", &rank, &layer,
                        &head) == 3);
    CHECK(rank == 1);
    CHECK(layer == top.layer);
    CHECK(head == top.head);
    CHECK(r[4].out.rfind("rank,layer,head,first\n1,", 0) == 0);
    CHECK(std::count(r[4].out.begin(), r[4].out.end(), '\n') == 1 + 6);
}

TEST_CASE("heads --clusters K: K clusters partition the heads, one medoid in each") {
    const std::vector<CommandResult> r = run_many({
        "heads " + kSource + " --clusters 3 --format json",
        "heads " + kSource + " --clusters 1 --format json",
        "heads " + kSource + " --clusters 6 --format json --features entropy,first,self",
        "heads " + kSource + " --clusters 2",
        "heads " + kSource + " --clusters 4 --format csv",
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    for (const auto& [index, k] : {std::pair{0, 3}, std::pair{1, 1}, std::pair{2, 6}}) {
        CAPTURE(k);
        const json c = json::parse(r[size_t(index)].out)["clustering"];
        CHECK(c["k"] == k);
        REQUIRE(c["clusters"].size() == size_t(k));
        REQUIRE(c["heads"].size() == 6);
        std::map<std::pair<int, int>, int> cluster_of;
        for (const json& h : c["heads"]) {
            const int label = h["cluster"].get<int>();
            CHECK(label >= 1);
            CHECK(label <= k);
            cluster_of[{h["layer"].get<int>(), h["head"].get<int>()}] = label;
        }
        CHECK(cluster_of.size() == 6);  // every head once
        int total = 0, medoids = 0;
        for (size_t i = 0; i < c["clusters"].size(); ++i) {
            const json& cluster = c["clusters"][i];
            CHECK(cluster["cluster"] == i + 1);
            CHECK(cluster["size"] == cluster["heads"].size());
            CHECK(cluster["size"].get<int>() >= 1);
            total += cluster["size"].get<int>();
            for (const json& member : cluster["heads"])
                CHECK(cluster_of.at({member[0].get<int>(), member[1].get<int>()}) == int(i + 1));
            const std::pair<int, int> medoid{cluster["medoid"]["layer"].get<int>(),
                                             cluster["medoid"]["head"].get<int>()};
            CHECK(cluster_of.at(medoid) == int(i + 1));  // the medoid is a member
        }
        for (const json& h : c["heads"]) medoids += h["medoid"].get<bool>();
        CHECK(total == 6);
        CHECK(medoids == k);
        // Numbered by lowest member: the first head (layer-major) is in cluster 1.
        CHECK(c["heads"][0]["cluster"] == 1);
    }
    CHECK(json::parse(r[2].out)["clustering"]["features"] ==
          json::array({"entropy", "first", "self"}));
    CHECK(json::parse(r[0].out)["clustering"]["features"].size() == 12);  // default: all
    // Table: header, 6 heads (2 medoids starred), 2 summary lines.
    CHECK(r[3].out.rfind("layer head cluster medoid\n", 0) == 0);
    CHECK(std::count(r[3].out.begin(), r[3].out.end(), '*') == 2);
    CHECK(std::count(r[3].out.begin(), r[3].out.end(), '\n') == 1 + 6 + 2);
    CHECK(contains(r[3].out, "# cluster 2: "));
    CHECK(r[4].out.rfind("layer,head,cluster,medoid\n", 0) == 0);
    CHECK(std::count(r[4].out.begin(), r[4].out.end(), '\n') == 1 + 6);
}

TEST_CASE("heads --scatter writes PNG, SVG and PDF; the SVG names clusters, medoids, heads") {
    TempDir tmp;
    const std::vector<CommandResult> r = run_many({
        "heads " + kSource + " --clusters 2 --scatter " + quote((tmp / "s.png").string()),
        "heads " + kSource + " --clusters 2 --scatter " + quote((tmp / "s.svg").string()) +
            " --format json",
        "heads " + kSource + " --scatter " + quote((tmp / "s.pdf").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const std::string png = read_file(tmp / "s.png"), svg = read_file(tmp / "s.svg"),
                      pdf = read_file(tmp / "s.pdf");
    CHECK(png.compare(1, 3, "PNG") == 0);
    CHECK(pdf.compare(0, 5, "%PDF-") == 0);
    REQUIRE(svg.find("<svg") != std::string::npos);
    for (const char* text : {"cluster 1 (", "cluster 2 (", "medoid", "L0H0", "L1H2", "PC1 (",
                             "% of variance)", "PCA of 12 robust-scaled metrics"}) {
        INFO(text);
        CHECK(contains(svg, text));
    }
    // The printed PCA: explained ratios in [0, 1], decreasing, one point per head.
    const json out = json::parse(r[1].out);
    const json& pca = out["pca"];
    CHECK(pca["explained"][0].get<double>() >= pca["explained"][1].get<double>());
    CHECK(pca["explained"][0].get<double>() + pca["explained"][1].get<double>() <= 1 + 1e-12);
    CHECK(pca["heads"].size() == 6);
    CHECK(out["clustering"]["clusters"].size() == 2);
    CHECK(r[2].out.empty());  // --scatter alone prints nothing in table format
}

TEST_CASE("grid --rank --top outlines the best heads; --sort orders each layer's row") {
    TempDir tmp;
    const fs::path top = tmp / "top.svg", sorted = tmp / "sorted.svg", plain = tmp / "plain.svg";
    const std::vector<CommandResult> r = run_many({
        "stats " + kRun0 + " --format json",
        "grid " + kRun0 + " --rank first --top 2 --out " + quote(top.string()),
        "grid " + kRun0 + " --rank first --sort --out " + quote(sorted.string()),
        "grid " + kRun0 + " --out " + quote(plain.string()),
        "grid " + kRun0 + " --rank entropy --top 1 --ascending --out " +
            quote((tmp / "low.svg").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const json stats = json::parse(r[0].out);
    const std::set<std::string> rows = {"L0", "L1"}, columns = {"H0", "H1"};
    const auto framed = [&](const fs::path& path) {
        const std::string svg = read_file(path);
        const std::vector<SvgText> texts = svg_texts(svg);
        std::vector<std::string> heads;
        for (const SvgRect& f : svg_rects_with_stroke(svg, "#d62728"))
            heads.push_back(nearest(texts, rows, f.y + f.h / 2, false) +
                            nearest(texts, columns, f.x + f.w / 2, true));
        return heads;
    };
    const auto name = [](const HeadValue& h) {
        std::string text = "L";  // built piecewise: GCC 12 warns falsely on "L" + string
        text += std::to_string(h.layer) + "H" + std::to_string(h.head);
        return text;
    };
    const std::vector<HeadValue> by_first = expected_order(stats, "first", false);
    CHECK(framed(top) == std::vector<std::string>{name(by_first[0]), name(by_first[1])});
    CHECK(contains(read_file(top), "top 2 by first outlined"));
    const std::vector<HeadValue> low_entropy = expected_order(stats, "entropy", true);
    CHECK(framed(tmp / "low.svg") == std::vector<std::string>{name(low_entropy[0])});
    CHECK(framed(plain).empty());
    CHECK(!contains(read_file(plain), "outlined"));

    // --sort: the 9 px labels under the thumbnails, read left to right per row, follow the
    // metric within each layer; the columns are ranks.
    const std::string svg = read_file(sorted);
    CHECK(contains(svg, ">#1</text>"));
    CHECK(contains(svg, ">#2</text>"));
    std::vector<SvgText> cells;
    for (const SvgText& t : svg_texts(svg))
        if (t.size == 9) cells.push_back(t);
    REQUIRE(cells.size() == 4);
    std::stable_sort(cells.begin(), cells.end(), [](const SvgText& a, const SvgText& b) {
        return a.y != b.y ? a.y < b.y : a.x < b.x;
    });
    for (int layer = 0; layer < 2; ++layer) {
        std::vector<HeadValue> in_layer;
        for (const HeadValue& h : by_first)
            if (h.layer == layer) in_layer.push_back(h);
        REQUIRE(in_layer.size() == 2);
        CHECK(cells[size_t(2 * layer)].text == head_label(in_layer[0].head));
        CHECK(cells[size_t(2 * layer + 1)].text == head_label(in_layer[1].head));
    }
}

TEST_CASE("heads and grid --rank: bad input exits 2 with one line and writes nothing") {
    TempDir tmp;
    const fs::path out = tmp / "s.png";
    const std::string scatter = " --scatter " + quote(out.string());
    const std::vector<CommandResult> r = run_many({
        "heads " + kSource + " --rank loudness",
        "heads " + kSource + " --clusters 0" + scatter,
        "heads " + kSource + " --clusters 7" + scatter,
        "heads " + kSource + " --scatter " + quote((tmp / "s.gif").string()),
        "heads " + kSource + " --clusters 2 --features entropy,volume" + scatter,
        "heads " + kSource,
        "heads " + kSource + " --top 3",
        "heads " + kSource + " --rank first --clusters 2 --format csv",
        "grid " + kRun0 + " --rank loudness --top 2 --out " + quote((tmp / "g.png").string()),
        "grid " + kRun0 + " --top 2 --out " + quote((tmp / "g.png").string()),
        "heads " + kSource + " --clusters 2 --features entropy,entropy" + scatter,
    });
    check_error(r[0], "unknown metric 'loudness'");
    check_error(r[1], "--clusters '0'");
    check_error(r[2], "--clusters 7: only 6 heads");
    check_error(r[3], "--scatter");
    check_error(r[4], "unknown metric 'volume'");
    check_error(r[5], "needs --rank METRIC, --clusters K or --scatter");
    check_error(r[6], "give --rank METRIC");
    check_error(r[7], "--format csv");
    check_error(r[8], "unknown metric 'loudness'");
    check_error(r[9], "give --rank METRIC");
    check_error(r[10], "'entropy' twice");
    check_no_output(out);
    check_no_output(tmp / "s.gif");
    check_no_output(tmp / "g.png");
}
