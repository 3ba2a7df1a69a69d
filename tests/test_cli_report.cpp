// headmap report end to end on the GPT-2 fixture: the directory's files, the Markdown's sections
// and links, replacing a previous report, and refusing what is not one.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

TEST_CASE("report: Markdown with the model, grid, top heads, rollout and one row per head") {
    TempDir tmp;
    const fs::path out = tmp / "report";
    const std::string src =
        "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(kSeed);
    const CommandResult r = run_cli("report " + src + " --top 2 --out " + quote(out.string()));
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    const std::string md = read_text(out / "report.md");
    for (const char* section :
         {"# headmap report: gpt2-tiny", "## Every layer and head", "## Top heads",
          "## Attention rollout", "## Modularity by layer", "## Statistics"})
        CHECK(contains(md, section));
    CHECK(contains(md, "| gpt2-tiny | 2 | 3 | 7 | causal (decoder) |"));
    // The modularity note names its source, not a file number of this project's notes.
    CHECK(!contains(md, "seed 004"));
    CHECK(contains(md, "attention_viz"));
    // Every linked image exists and is a PNG; the grid, the rollout and at least the two focused
    // heads are linked.
    const std::regex link(R"(!\[[^\]]*\]\(([^)]+)\))");
    std::set<std::string> linked;
    for (auto it = std::sregex_iterator(md.begin(), md.end(), link); it != std::sregex_iterator();
         ++it)
        linked.insert((*it)[1].str());
    CHECK(linked.count("grid.png") == 1);
    CHECK(linked.count("rollout.png") == 1);
    CHECK(linked.count("modularity.png") == 1);
    CHECK(linked.size() >= 5);
    for (const std::string& name : linked) {
        INFO(name);
        CHECK(read_text(out / name).rfind("\x89PNG", 0) == 0);
    }
    // The statistics table: one row per layer x head (2 x 3), named L<l>H<h>.
    for (int l = 0; l < 2; ++l)
        for (int h = 0; h < 3; ++h) {
            const std::string row = "| L" + std::to_string(l) + "H" + std::to_string(h) + " | ";
            CHECK(contains(md, row));
        }
    // No temporary directory is left beside the report.
    CHECK(entries(tmp.path) == std::set<std::string>{"report"});

    // A second run replaces the previous report (SVG images now).
    const CommandResult again =
        run_cli("report " + src + " --image-format svg --out " + quote(out.string()));
    REQUIRE(again.exit_code == 0);
    CHECK(fs::exists(out / "grid.svg"));
    CHECK(!fs::exists(out / "grid.png"));
    CHECK(contains(read_text(out / "report.md"), "](rollout.svg)"));
}

TEST_CASE("report: bad input exits 2 with one line and leaves nothing") {
    TempDir tmp;
    const std::string src =
        "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(kSeed);
    const fs::path other = tmp / "notes";
    fs::create_directories(other);
    std::ofstream(other / "keep.txt") << "mine";
    const std::vector<CommandResult> r = run_many({
        "report " + src + " --out " + quote(other.string()),
        "report " + src + " --image-format gif --out " + quote((tmp / "a").string()),
        "report " + src + " --top -1 --out " + quote((tmp / "b").string()),
        "report " + src + " --out " + quote((tmp / "missing" / "deeper" / "c").string()) +
            " --model " + quote((tmp / "no-model").string()),
    });
    check_error(r[0], "is not a headmap report");
    CHECK(read_text(other / "keep.txt") == "mine");
    check_error(r[1], "--image-format 'gif'");
    check_error(r[2], "--top");
    check_error(r[3], "does not exist");
    CHECK(entries(tmp.path) == std::set<std::string>{"notes"});
}
