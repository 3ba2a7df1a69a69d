// The view commands end to end: every view on a 1-token and a 512-token input, all three output
// formats, the embedded default model, and the bad-input contract (exit 2, one line, no image).
#include <doctest/doctest.h>

#include "cli_test_support.h"
#include "engine/output_file.h"

using namespace cli_test;

namespace {

const std::string kGpt2Tiny = "--model " + quote(kTiny.string()) + " " + tok_opt();

// A (S, S) row-stochastic map written as .npy.
void write_map(const fs::path& path, int S, float sharpness) {
    std::vector<float> map(size_t(S) * S);
    for (int i = 0; i < S; ++i) {
        float sum = 0;
        for (int j = 0; j < S; ++j)
            sum += map[size_t(i) * S + j] = 1.0f + sharpness * float((i * 7 + j * 3) % 5);
        for (int j = 0; j < S; ++j) map[size_t(i) * S + j] /= sum;
    }
    headmap::NpyWriter writer(path, {S, S});
    writer.write(map);
    writer.commit();
}

bool is_png(const fs::path& path) {
    return read_file(path).rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

}  // namespace

TEST_CASE("every view draws a 1-token input from a model") {
    TempDir tmp;
    const std::string src = kGpt2Tiny + " --text Hello";
    const std::vector<std::string> commands = {
        "heatmap " + src + " --out " + quote((tmp / "h.png").string()),
        "grid " + src + " --out " + quote((tmp / "g.png").string()),
        "compare " + src + " --head 0 --head2 1 --out " + quote((tmp / "c.png").string()),
        "compare " + src + " --layer 0 --layer2 1 --diff --out " + quote((tmp / "d.png").string()),
        "regions " + src + " --out " + quote((tmp / "r.png").string()),
        "evolution --model " + quote(kTiny.string()) + " --model " + quote(kTiny.string()) + " " +
            tok_opt() + " --text Hello --out " + quote((tmp / "e.png").string()),
    };
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        INFO("stderr: ", results[i].err);
        CHECK(results[i].exit_code == 0);
    }
    for (const char* name : {"h.png", "g.png", "c.png", "d.png", "r.png", "e.png"})
        CHECK(is_png(tmp / name));
    CHECK(contains(results[4].out, "\"regions\""));
}

TEST_CASE("stability and the other views draw 1-token maps read from files") {
    TempDir tmp;
    write_map(tmp / "a.npy", 1, 1.0f);
    write_map(tmp / "b.npy", 1, 2.0f);
    const std::string a = quote((tmp / "a.npy").string()), b = quote((tmp / "b.npy").string());
    const std::vector<std::string> commands = {
        "stability --from " + a + " --from " + b + " --out " + quote((tmp / "s.png").string()),
        "evolution --from " + a + " --from " + b + " --out " + quote((tmp / "e.svg").string()),
        "compare --from " + a + " --from2 " + b + " --out " + quote((tmp / "c.pdf").string()),
        "heatmap --from " + a + " --top 1 --out " + quote((tmp / "h.png").string()),
        "grid --from " + a + " --out " + quote((tmp / "g.png").string()),
    };
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        INFO("stderr: ", results[i].err);
        CHECK(results[i].exit_code == 0);
    }
    CHECK(is_png(tmp / "s.png"));
    CHECK(is_png(tmp / "h.png"));
}

TEST_CASE("every view draws 512-token maps read from files, in PNG, SVG and PDF") {
    TempDir tmp;
    write_map(tmp / "a.npy", 512, 1.0f);
    write_map(tmp / "b.npy", 512, 2.0f);
    const std::string a = quote((tmp / "a.npy").string()), b = quote((tmp / "b.npy").string());
    const std::vector<std::string> commands = {
        "heatmap --from " + a + " --top 5 --out " + quote((tmp / "h.png").string()),
        "heatmap --from " + a + " --out " + quote((tmp / "h.svg").string()),
        "heatmap --from " + a + " --out " + quote((tmp / "h.pdf").string()),
        "grid --from " + a + " --out " + quote((tmp / "g.png").string()),
        "compare --from " + a + " --from2 " + b + " --out " + quote((tmp / "c.png").string()),
        "stability --from " + a + " --from " + b + " --out " + quote((tmp / "s.png").string()),
        "evolution --from " + a + " --from " + b + " --out " + quote((tmp / "e.png").string()),
        "regions --from " + a + " --out " + quote((tmp / "r.png").string()),
    };
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        INFO("stderr: ", results[i].err);
        CHECK(results[i].exit_code == 0);
    }
    CHECK(is_png(tmp / "h.png"));
    const std::string svg = read_file(tmp / "h.svg");
    CHECK(contains(svg, "<svg"));
    CHECK(contains(svg, "</svg>"));
    const std::string pdf = read_file(tmp / "h.pdf");
    CHECK(pdf.rfind("%PDF-", 0) == 0);
    CHECK(contains(pdf.substr(pdf.size() - 8), "%%EOF"));
}

TEST_CASE("a hostile --font: one line naming the file and what is broken, exit 2, no image") {
    // Fuzzer finds that crashed stb_truetype before fonts were checked (tests/data/README.md).
    TempDir tmp;
    write_map(tmp / "a8.npy", 8, 1.0f);
    const std::string a8 = quote((tmp / "a8.npy").string());
    const fs::path dir = kTestData / "fonts" / "hostile";
    const std::vector<std::pair<std::string, std::string>> fonts = {
        {"cmap-records-past-table.ttf", "cmap encoding records"},
        {"cmap4-range-offset-past-table.ttf", "glyph ids of cmap format 4 segment"},
        {"composite-glyph-past-font.ttf", "refers to glyph"},
        {"glyph-points-past-outline.ttf", "ends inside its point coordinates"},
        {"hhea-no-metrics.ttf", "numberOfHMetrics is 0"},
        {"loca-backwards.ttf", "loca offsets go backwards"},
        {"loca-past-glyf.ttf", "outline runs past the glyf table"},
    };
    const char* formats[] = {".png", ".svg", ".pdf"};
    std::vector<std::string> commands;
    std::vector<fs::path> outs;
    for (size_t i = 0; i < fonts.size(); ++i) {
        outs.push_back(tmp / ("out" + std::to_string(i) + formats[i % 3]));
        commands.push_back("heatmap --from " + a8 + " --font " +
                           quote((dir / fonts[i].first).string()) + " --out " +
                           quote(outs.back().string()));
    }
    // From a model too: the font is loaded before anything is drawn.
    outs.push_back(tmp / "model.png");
    commands.push_back("heatmap " + kGpt2Tiny + " --text Hello --font " +
                       quote((dir / fonts[0].first).string()) + " --out " +
                       quote(outs.back().string()));
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        const auto& [file, problem] = fonts[i % fonts.size()];
        check_error(results[i], problem);
        CHECK(contains(results[i].err, file));
        check_no_output(outs[i]);
    }
}

TEST_CASE("with no --model, the embedded default model draws the seed sentence") {
    TempDir tmp;
    const CommandResult r =
        run_cli("heatmap --text " + quote(kSeed) + " --layer -1 --head mean --out " +
                quote((tmp / "seed.png").string()));
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(is_png(tmp / "seed.png"));
}

TEST_CASE("view bad input: one line, exit 2, no image left behind") {
    TempDir tmp;
    write_map(tmp / "a8.npy", 8, 1.0f);
    write_map(tmp / "a9.npy", 9, 1.0f);
    write_file(tmp / "broken.npy", "\x93NUMPY\x01\x00garbage");
    const std::string a8 = quote((tmp / "a8.npy").string()), a9 = quote((tmp / "a9.npy").string());
    const fs::path out = tmp / "out.png";
    const std::string o = " --out " + quote(out.string());
    const std::vector<ErrorCase> cases = {
        {"compare --from " + a8 + " --from2 " + a9 + o, "differ in size"},
        // No second source, or one that saved maps cannot use: once a map compared with itself.
        {"compare --from " + a8 + o, "compare needs a second map"},
        {"compare " + kGpt2Tiny + " --text Hello" + o, "compare needs a second map"},
        {"compare --from " + a8 + " --model2 " + quote(kTiny.string()) + o, "--from2"},
        {"compare --from " + a8 + " --text2 Hello" + o, "--from2"},
        {"compare --from " + a8 + " --from2 " + a8 + " --diff --signed" + o, "--signed colours"},
        // Options that only shape a picture nobody asked for were ignored in silence.
        {"regions --from " + a8 + " --gamma 2", "--gamma shapes the picture, which needs --out"},
        {"regions --from " + a8 + " --top abc", "--top shapes the picture"},
        {"modularity --from " + a8 + " --title T", "--title shapes the picture"},
        {"heads --rank entropy --from " + a8 + " --scale 2", "needs --scatter FILE"},
        {"rollout --from " + a8 + " --colormap magma --out " + quote((tmp / "r.npy").string()),
         "--colormap shapes the picture, which needs an image --out"},
        {"rollout --from " + a8 + " --out " + quote((tmp / "r.npz").string()),
         "expected .npy for the matrix, or .png, .svg or .pdf"},
        {"stability --from " + a8 + " --from " + a9 + o, "differ in size"},
        {"stability --from " + a8 + o, "at least 2"},
        {"heatmap --from " + quote((tmp / "missing.npy").string()) + o, "missing.npy"},
        {"heatmap --from " + quote((tmp / "broken.npy").string()) + o, "broken.npy"},
        {"heatmap --from " + a8 + " --colormap rainbow" + o, "rainbow"},
        {"heatmap --from " + a8 + " --out " + quote((tmp / "x.jpg").string()), ".jpg"},
        {"heatmap --from " + a8 + " --out " + quote((tmp / "no" / "dir" / "x.png").string()),
         "x.png"},
        {"heatmap --from " + a8 + " --layer 3" + o, "layer 3 out of range"},
        {"heatmap --from " + a8 + " --region 1,2,3" + o, "--region"},
        {"heatmap --from " + a8 + " --tokens 'a b c'" + o, "--tokens gives 3 tokens"},
        {"heatmap --from " + a8 + " --question-context" + o, "--question-context"},
        {"compare " + kGpt2Tiny + " --text Hello --text2 " + quote("Hello world") + o,
         "differ in size"},
        {"heatmap " + kGpt2Tiny + " --text Hello --head 7" + o, "head 7 out of range"},
        {"heatmap " + kGpt2Tiny + " --text Hello --font " + quote((tmp / "a8.npy").string()) + o,
         "a8.npy"},
    };
    check_errors(cases);
    check_no_output(out);
    check_no_output(tmp / "x.jpg");
    check_no_output(tmp / "r.npy");
    check_no_output(tmp / "r.npz");
}

TEST_CASE("titles say layer and head; two texts are told apart and both shown") {
    TempDir tmp;
    write_map(tmp / "a.npy", 4, 1.0f);
    write_map(tmp / "b.npy", 4, 2.0f);
    const std::string a = quote((tmp / "a.npy").string()), b = quote((tmp / "b.npy").string());
    const std::vector<std::string> commands = {
        "stability --from " + a + " --from " + b + " --std --out " +
            quote((tmp / "s.svg").string()),
        "evolution --from " + a + " --from " + b + " --out " + quote((tmp / "e.svg").string()),
        "compare " + kGpt2Tiny + " --text " + quote("The cat sat") + " --text2 " +
            quote("The dog sat") + " --layer 0 --head 1 --out " + quote((tmp / "c.svg").string()),
    };
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < commands.size(); ++i) {
        CAPTURE(commands[i]);
        INFO("stderr: ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
    }
    const std::string stability = read_file(tmp / "s.svg");
    CHECK(contains(stability, "a.npy L0 Hmean: stability over 2 runs (std)"));
    CHECK(contains(stability, "mean - 2.0 std to mean + 2.0 std"));  // not "err"
    CHECK(contains(read_file(tmp / "e.svg"), "a.npy L0 Hmean: evolution over 2 checkpoints"));
    const std::string compare = read_file(tmp / "c.svg");
    CHECK(contains(compare, "L0 H1 (text 1) vs "));
    CHECK(contains(compare, "L0 H1 (text 2)"));
    CHECK(contains(compare, "\u2423cat / \u2423dog"));  // the second text's token beside the first
}

TEST_CASE("regions on real all-MiniLM-L6-v2 find structure, not only the [CLS] column") {
    const fs::path minilm = kSourceDir / "weights" / "all-MiniLM-L6-v2";
    REQUIRE_MESSAGE(fs::exists(minilm / "model.safetensors"), "run weights/fetch");
    // On the raw map all five regions were single cells of the [CLS] column.
    const std::string text = "The quick brown fox jumps over the lazy dog while the cat sleeps";
    for (const char* where :
         {"--layer 1 --head 3", "--layer 2 --head 0", "--layer 4 --head mean"}) {
        CAPTURE(where);
        const CommandResult r = run_cli("regions --model " + quote(minilm.string()) + " --text " +
                                        quote(text) + " " + where);
        INFO("stderr: ", r.err);
        REQUIRE(r.exit_code == 0);
        const nlohmann::json out = nlohmann::json::parse(r.out);
        const int seq = 15;  // [CLS] + 13 words + [SEP]
        REQUIRE(out["regions"].size() >= 3);
        int off_sink = 0;
        for (const auto& region : out["regions"]) {
            const int r0 = region["rows"][0], r1 = region["rows"][1];
            const int c0 = region["cols"][0], c1 = region["cols"][1];
            CHECK(!(r0 == 0 && c0 == 0 && r1 == seq - 1 && c1 == seq - 1));  // not the whole map
            off_sink += c1 > 0 ? 1 : 0;
        }
        CHECK(off_sink == int(out["regions"].size()));
    }
}
