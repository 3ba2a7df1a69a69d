// libFuzzer target: arbitrary bytes as a TrueType font (what `headmap heatmap --font X` reads).
// A font that Font::from_files rejects must be rejected with headmap::Error; one it accepts must
// survive everything the views and back ends do with a font: measuring with kerning, elision,
// glyph lookups and PDF widths, rasterising glyphs (present and missing, plain and bold, at
// fractional pen positions), and drawing a small scene as a raster, SVG and PDF.
//
// Seeds: tests/fuzz/corpus/font/ (DejaVu subsets, tests/fuzz/make_font_seeds.py); dictionary:
// tests/fuzz/dict/font.dict. By hand, from the repository root: compile with
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off -I.
//   -Iinclude -isystem /usr/include/stb -o fuzz_font tests/fuzz/fuzz_font.cpp viz/font.cpp
//   viz/font_check.cpp viz/font_check_glyf.cpp viz/stb_impl.cpp viz/raster.cpp viz/svg.cpp
//   viz/pdf.cpp viz/output.cpp viz/colormap.cpp
// and run on a copy of the seeds:
//   mkdir -p corpus && cp tests/fuzz/corpus/font/* corpus/
//   ./fuzz_font -dict=tests/fuzz/dict/font.dict -max_total_time=1200 corpus
#include <cstddef>
#include <cstdint>
#include <string>

#include "headmap/error.hpp"
#include "viz/font.h"
#include "viz/render.h"
#include "viz/scene.h"

namespace {

using headmap::viz::Font;

// ASCII with kerning pairs, Latin-1 and a composite-heavy accent, CJK (usually missing), the
// ellipsis elide appends, a non-BMP code point (cmap formats 12/13) and invalid UTF-8.
constexpr const char* kTexts[] = {
    "AV To Wa LT yo",
    "h\xC3\xA9llo w\xC3\xB6rld \xC3\x85\xC7\xBA",
    "\xE6\x97\xA5\xE6\x9C\xAC",
    "\xE2\x80\xA6\xE2\x80\x94",
    "\xF0\x9F\x98\x80 \xF0\x9D\x90\x80",
    "\xFF\xFE ok",
};
constexpr char32_t kCodePoints[] = {
    U'A',   U'g',   U'V',   U' ',    0xE9,    0x1FA,    0x2026,
    0x4E2D, 0xFFFD, 0xFFFF, 0x1D400, 0x1F600, 0x10FFFF, 0,
};

void exercise(const Font& font) {
    for (const char* text : kTexts) {
        for (bool bold : {false, true}) {
            volatile float w = font.text_width(text, 12, bold);
            (void)w;
            (void)font.elide(text, 12, 30, bold);
        }
    }
    (void)font.ascent(10);
    (void)font.descent(10);
    for (char32_t a : kCodePoints) {
        (void)font.has_glyph(a);
        const int gi = font.glyph_index(a);
        (void)font.glyph_advance_1000(gi);
        (void)font.glyph_advance_1000(gi, true);
        (void)font.kerning(a, U'V', 16);
        (void)font.kerning(U'A', a, 16, true);
        for (float size : {9.0f, 17.5f}) {
            (void)font.glyph(a, size, 0.0f);
            (void)font.glyph(a, size, 0.25f, true);
        }
    }
    for (int gi : {0, 1, 2, 3, 100, 1000, 65535, 65536, -1}) (void)font.glyph_advance_1000(gi);
    (void)font.glyph(U'W', 48, 0.5f);

    // A small scene through every back end, as the views' pictures go.
    headmap::viz::Scene scene;
    scene.width = 48, scene.height = 24;
    headmap::viz::TextItem plain;
    plain.utf8 = kTexts[0], plain.x = 1, plain.y = 12, plain.size = 11;
    scene.add(plain);
    headmap::viz::TextItem bold = plain;
    bold.utf8 = kTexts[1], bold.bold = true, bold.rotation_deg = -90, bold.x = 40, bold.y = 22;
    scene.add(bold);
    (void)headmap::viz::rasterize(scene, font);
    (void)headmap::viz::render_svg(scene, font);
    (void)headmap::viz::render_pdf(scene, font);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    Font font;
    try {
        font = Font::from_files({std::move(bytes), "fuzz.ttf"});
    } catch (const headmap::Error&) {
        return 0;  // rejected with a message: what a hostile file should get
    }
    exercise(font);
    return 0;
}
