// Golden images: every view rendered from saved maps (tests/data/golden/cases.txt) must equal the
// committed PNG pixel for pixel. Regenerate on purpose with tools/regen_goldens.sh.
#include <doctest/doctest.h>

#include <fstream>

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

struct Pixels {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;
};

Pixels decode_png(const fs::path& path) {
    Pixels p;
    const std::string bytes = read_file(path);
    int channels = 0;
    uint8_t* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                          int(bytes.size()), &p.width, &p.height, &channels, 4);
    if (data) {
        p.rgba.assign(data, data + size_t(p.width) * size_t(p.height) * 4);
        stbi_image_free(data);
    }
    return p;
}

struct GoldenCase {
    std::string name, args;
};

std::vector<GoldenCase> golden_cases() {
    std::ifstream in(kTestData / "golden" / "cases.txt");
    std::vector<GoldenCase> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const size_t tab = line.find('\t');
        if (tab != std::string::npos) cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    return cases;
}

}  // namespace

TEST_CASE("every view matches its golden image pixel for pixel") {
    const std::vector<GoldenCase> cases = golden_cases();
    REQUIRE(cases.size() >= 9);
    TempDir tmp;
    std::vector<std::string> commands;
    for (const GoldenCase& c : cases) {
        std::string args = c.args;
        const fs::path out = tmp / (c.name + ".png");
        args.replace(args.find("{out}"), 5, quote(out.string()));
        commands.push_back(args);
    }
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].name);
        INFO("stderr: ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
        const Pixels got = decode_png(tmp / (cases[i].name + ".png"));
        const Pixels want = decode_png(kTestData / "golden" / (cases[i].name + ".png"));
        REQUIRE_MESSAGE(!want.rgba.empty(), "missing golden; run tools/regen_goldens.sh");
        REQUIRE(!got.rgba.empty());
        CHECK(got.width == want.width);
        CHECK(got.height == want.height);
        if (got.rgba.size() != want.rgba.size()) continue;
        size_t differing = 0;
        for (size_t p = 0; p < got.rgba.size(); p += 4)
            differing += !std::equal(got.rgba.begin() + std::ptrdiff_t(p),
                                     got.rgba.begin() + std::ptrdiff_t(p + 4),
                                     want.rgba.begin() + std::ptrdiff_t(p));
        CHECK(differing == 0);
    }
}
