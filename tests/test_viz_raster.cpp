// The raster back end and fonts: text measuring and layout, anti-aliased shapes, clipping,
// determinism, PNG encoding and atomic writing.
#include <doctest/doctest.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "headmap/error.hpp"
#include "tools/viz_io.h"
#include "viz/font.h"
#include "viz/render.h"

// stb_image decodes our PNGs back; its warnings are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif
#pragma GCC diagnostic pop

using namespace headmap::viz;
using headmap::viz_io::load_font;
using headmap::viz_io::write_scene;
namespace fs = std::filesystem;

namespace {

const Font& system_font() {
    static const Font font = load_font();
    return font;
}

struct Rgba {
    int r, g, b, a;
};

Rgba at(const Image& image, int x, int y) {
    const uint8_t* p = &image.rgba[(size_t(y) * size_t(image.width) + size_t(x)) * 4];
    return {p[0], p[1], p[2], p[3]};
}

bool is_background(const Image& image, int x, int y) {
    const Rgba p = at(image, x, y);
    return p.r == 255 && p.g == 255 && p.b == 255;
}

struct Ink {
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;  // inclusive
    int width() const { return x1 - x0 + 1; }
    int height() const { return y1 - y0 + 1; }
};

// Bounding box of the non-white pixels of an image drawn on white.
Ink ink_of(const Image& image) {
    Ink ink;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            if (!is_background(image, x, y)) {
                ink.x0 = std::min(ink.x0, x), ink.x1 = std::max(ink.x1, x);
                ink.y0 = std::min(ink.y0, y), ink.y1 = std::max(ink.y1, y);
            }
    return ink;
}

Scene blank(float w, float h) {
    Scene scene;
    scene.width = w, scene.height = h;
    return scene;
}

TextItem text(std::string s, float x, float y, float size = 16) {
    TextItem t;
    t.utf8 = std::move(s), t.x = x, t.y = y, t.size = size;
    return t;
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("headmap_viz_raster_" + std::to_string(getpid()) + "_" +
                                            std::to_string(std::rand()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    size_t entries() const {
        return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
    }
};

}  // namespace

TEST_CASE("UTF-8 decoding replaces invalid input with U+FFFD") {
    CHECK(decode_utf8("a\xC3\xA9\xE2\x80\xA6") == U"a\u00E9\u2026");
    CHECK(decode_utf8("\xF0\x9F\x98\x80") == U"\U0001F600");
    CHECK(decode_utf8(std::string("\xFF") + "a") == U"\uFFFDa");
    CHECK(decode_utf8("\xC0\xAF") == U"\uFFFD\uFFFD");            // overlong
    CHECK(decode_utf8("\xED\xA0\x80") == U"\uFFFD\uFFFD\uFFFD");  // a surrogate
    CHECK(decode_utf8("\xE2\x80") == U"\uFFFD");                  // truncated: one subpart
    CHECK(decode_utf8("\xE2\x80z") == U"\uFFFDz");
}

TEST_CASE("text width grows with length and scales with size") {
    for (const Font& font : {system_font(), Font::builtin()}) {
        const float w1 = font.text_width("token", 12), w2 = font.text_width("tokens", 12);
        CHECK(w1 > 0);
        CHECK(w2 > w1);
        CHECK(font.text_width("token", 24) == doctest::Approx(2 * w1).epsilon(1e-4));
        CHECK(font.text_width("", 12) == 0);
        CHECK(font.ascent(10) > font.descent(10));
        CHECK(font.descent(10) > 0);
    }
}

TEST_CASE("kerning narrows AV when the font kerns") {
    const Font& font = system_font();
    if (font.kerning('A', 'V', 100) == 0) {
        MESSAGE("no kerning in " << font.name() << "; skipped");
        return;
    }
    CHECK(font.kerning('A', 'V', 100) < 0);
    CHECK(font.text_width("AV", 100) < font.text_width("A", 100) + font.text_width("V", 100));
}

TEST_CASE("elide fits the width and ends with an ellipsis") {
    for (const Font& font : {system_font(), Font::builtin()}) {
        const std::string long_text = "a rather long token label that cannot fit";
        const std::string e = font.elide(long_text, 12, 60);
        CHECK(font.text_width(e, 12) <= 60);
        REQUIRE(e.size() >= 3);
        CHECK(e.ends_with("\xE2\x80\xA6"));
        CHECK(e.size() > 3);  // some text survives
        CHECK(font.elide("short", 12, 500) == "short");
        CHECK(font.elide(long_text, 12, 0.5f).empty());  // not even the ellipsis fits
    }
}

TEST_CASE("builtin font measures ASCII and draws boxes for missing glyphs") {
    const Font font = Font::builtin();
    CHECK(font.is_builtin());
    CHECK(font.name() == "builtin");
    CHECK(font.file_name().empty());
    CHECK(font.has_glyph('A'));
    CHECK(font.has_glyph(U'\u2026'));
    CHECK_FALSE(font.has_glyph(U'\u6F22'));
    CHECK(font.text_width("iii", 10) < font.text_width("WWW", 10));
    CHECK(Font().is_builtin());  // a default Font is usable

    // A CJK character is a hollow box: ink on the border, none in the middle.
    const Font::Glyph box = font.glyph(U'\u6F22', 40, 0);
    REQUIRE(box.width > 6);
    REQUIRE(box.height > 6);
    CHECK(box.coverage[size_t(box.height / 2) * size_t(box.width)] > 128);  // left edge
    CHECK(box.coverage[size_t(box.height / 2) * size_t(box.width) + size_t(box.width / 2)] == 0);

    Scene scene = blank(80, 30);
    scene.add(text("Hi \xE6\xBC\xA2", 4, 20, 12));
    const Ink ink = ink_of(rasterize(scene, font));
    CHECK(ink.width() > 10);
}

TEST_CASE("builtin font: GPT-2 labels' marks (leading space, newline) are glyphs, not boxes") {
    const Font font = Font::builtin();
    for (const char32_t mark : {U'\u2423', U'\u21B5'}) {
        CAPTURE(uint32_t(mark));
        CHECK(font.has_glyph(mark));
        const Font::Glyph glyph = font.glyph(mark, 40, 0);
        const Font::Glyph box = font.glyph(U'\u6F22', 40, 0);
        REQUIRE(glyph.width > 4);
        CHECK(glyph.coverage != box.coverage);
        CHECK(std::count_if(glyph.coverage.begin(), glyph.coverage.end(),
                            [](uint8_t c) { return c > 128; }) > 20);
    }
    // ␣ sits on the baseline: ink in its bottom rows, none in its top half.
    const Font::Glyph open_box = font.glyph(U'\u2423', 40, 0);
    const auto row_ink = [&](int row) {
        int ink = 0;
        for (int x = 0; x < open_box.width; ++x)
            ink += open_box.coverage[size_t(row) * size_t(open_box.width) + size_t(x)] > 128;
        return ink;
    };
    CHECK(row_ink(open_box.height - 1) > open_box.width / 2);
    CHECK(row_ink(0) < open_box.width / 2);
    CHECK(font.text_width("\xE2\x90\xA3"
                          "cat",
                          10) < font.text_width("\xE6\xBC\xA2"
                                                "cat",
                                                10) +
                                    20);
}

TEST_CASE("system font: DejaVu when installed, with a bold face") {
    const Font& font = system_font();
    if (font.is_builtin()) {
        MESSAGE("no system font; the builtin one is used");
        return;
    }
    CHECK(fs::exists(font.file_name()));
    CHECK(fs::exists(font.file_name(true)));
    CHECK(font.has_glyph('A'));
    CHECK(font.glyph_index('A') > 0);
    CHECK(font.glyph_advance_1000(font.glyph_index('A')) > 300);
    CHECK(font.text_width("Bold", 12, true) > font.text_width("Bold", 12, false));
    // An explicit path finds its bold sibling (X.ttf -> X-Bold.ttf) when there is one.
    const Font given = load_font(font.file_name());
    CHECK(given.name() == font.name());
    CHECK(given.file_name(true) == font.file_name(true));
    // Subpixel positioning: a quarter-pixel shift changes the bitmap.
    CHECK(font.glyph('l', 12, 0).coverage != font.glyph('l', 12, 0.5f).coverage);
}

TEST_CASE("load_font on a bad path names the path and what was expected") {
    TempDir dir;
    const fs::path missing = dir.path / "no-such-font.ttf";
    try {
        load_font(missing);
        FAIL("expected headmap::Error");
    } catch (const headmap::Error& e) {
        CHECK(std::string(e.what()).find(missing.string()) != std::string::npos);
        CHECK(std::string(e.what()).find("TrueType") != std::string::npos);
    }
    const fs::path junk = dir.path / "junk.ttf";
    std::ofstream(junk) << "this is not a font, just some text long enough";
    CHECK_THROWS_AS(load_font(junk), headmap::Error);
    // A table directory pointing past the end of the file is refused before stb reads it.
    std::string header("\x00\x01\x00\x00\x00\x01\x00\x10\x00\x00\x00\x00", 12);
    header += std::string("cmap\0\0\0\0\x7F\0\0\0\0\0\x10\0", 16);
    std::ofstream(junk, std::ios::binary) << header;
    CHECK_THROWS_AS(load_font(junk), headmap::Error);
    CHECK_THROWS_AS(load_font(dir.path), headmap::Error);
    // Bytes that are no font: the error names what the caller called them.
    try {
        Font::from_files({"not a font", "in-memory.ttf"});
        FAIL("expected headmap::Error");
    } catch (const headmap::Error& e) {
        CHECK(std::string(e.what()).find("in-memory.ttf") != std::string::npos);
    }
}

TEST_CASE("a pixel-aligned rectangle has the exact colour inside and none outside") {
    Scene scene = blank(20, 20);
    scene.add(RectItem{4, 5, 6, 7, {10, 200, 30, 255}});
    const Image image = rasterize(scene, Font::builtin());
    CHECK(image.width == 20);
    CHECK(image.height == 20);
    const Rgba inside = at(image, 4, 5), corner = at(image, 9, 11);
    CHECK(inside.r == 10);
    CHECK(inside.g == 200);
    CHECK(inside.b == 30);
    CHECK(inside.a == 255);
    CHECK(corner.g == 200);
    CHECK(is_background(image, 3, 5));
    CHECK(is_background(image, 10, 5));
    CHECK(is_background(image, 4, 12));
}

TEST_CASE("a half-pixel edge blends about half") {
    Scene scene = blank(10, 10);
    scene.add(RectItem{2.5f, 2, 4, 4, {0, 0, 0, 255}});
    const Image image = rasterize(scene, Font::builtin());
    CHECK(std::abs(at(image, 2, 3).r - 128) <= 2);  // left edge column: half covered
    CHECK(std::abs(at(image, 6, 3).r - 128) <= 2);  // right edge column
    CHECK(at(image, 4, 3).r == 0);
    // Translucent colours composite source-over.
    Scene over = blank(4, 4);
    over.add(RectItem{0, 0, 4, 4, {0, 0, 255, 128}});
    CHECK(std::abs(at(rasterize(over, Font::builtin()), 1, 1).r - 127) <= 1);
}

TEST_CASE("pixel-snapped rectangles abut without seams") {
    Scene seams = blank(10, 4), snapped = blank(10, 4);
    for (float x : {0.0f, 2.5f, 5.0f}) {
        RectItem cell{x, 0, 2.5f, 4, {0, 0, 0, 255}};
        seams.add(cell);
        cell.pixel_snap = true;
        snapped.add(cell);
    }
    CHECK(at(rasterize(seams, Font::builtin()), 2, 1).r > 0);  // 50% + 50% is 75%, not black
    const Image image = rasterize(snapped, Font::builtin());
    for (int x = 0; x < 8; ++x) CHECK(at(image, x, 1).r == 0);
    CHECK(is_background(image, 8, 1));
}

TEST_CASE("compositing onto a transparent background keeps straight alpha") {
    Scene scene = blank(4, 4);
    scene.background = {0, 0, 0, 0};
    scene.add(RectItem{0, 0, 4, 4, {200, 100, 50, 128}});
    const Rgba p = at(rasterize(scene, Font::builtin()), 1, 1);
    CHECK(p.r == 200);
    CHECK(p.g == 100);
    CHECK(p.b == 50);
    CHECK(p.a == 128);
}

TEST_CASE("rectangle outlines are centred on the edge") {
    Scene scene = blank(20, 20);
    RectItem r{5, 5, 10, 10};
    r.stroke = {0, 0, 0, 255}, r.stroke_width = 2;
    scene.add(r);
    const Image image = rasterize(scene, Font::builtin());
    CHECK(at(image, 4, 10).r == 0);  // outside half of the left edge
    CHECK(at(image, 5, 10).r == 0);  // inside half
    CHECK(is_background(image, 3, 10));
    CHECK(is_background(image, 6, 10));
    CHECK(is_background(image, 10, 10));
}

TEST_CASE("circles: solid centre, clean outside, soft edge") {
    Scene scene = blank(40, 40);
    scene.add(CircleItem{20, 20, 10, {255, 0, 0, 255}});
    const Image image = rasterize(scene, Font::builtin());
    const Rgba centre = at(image, 20, 20);
    CHECK(centre.r == 255);
    CHECK(centre.g == 0);
    CHECK(is_background(image, 20, 5));
    CHECK(is_background(image, 28, 28));  // outside along the diagonal (distance 11.3)
    const Rgba edge = at(image, 29, 20);  // pixel centre 29.5: 0.5 px inside the edge
    CHECK(edge.g < 255);
    CHECK(edge.g > 0);

    Scene gradient = blank(40, 40);
    gradient.add(GradientCircleItem{20, 20, 15, {0, 0, 255, 255}, {255, 0, 0, 255}});
    const Image g = rasterize(gradient, Font::builtin());
    CHECK(at(g, 20, 20).b > 230);  // inner colour at the centre
    CHECK(at(g, 32, 20).r > at(g, 24, 20).r);
}

TEST_CASE("polyline joins are not blended twice") {
    Scene scene = blank(40, 40);
    PolylineItem line;
    line.points = {{5, 20}, {20, 20}, {20, 5}};
    line.stroke = {0, 0, 0, 128}, line.width = 3;
    scene.add(line);
    const Image image = rasterize(scene, Font::builtin());
    CHECK(at(image, 20, 20).r == at(image, 12, 20).r);  // the join as dark as the segment
    CHECK(at(image, 12, 20).r < 200);
    CHECK(is_background(image, 2, 20));  // butt cap: nothing before the start
    CHECK(is_background(image, 30, 30));
}

TEST_CASE("clipping hides what lies outside the clip rectangle") {
    Scene scene = blank(20, 20);
    scene.add(ClipBegin{5, 5, 5, 5});
    scene.add(RectItem{0, 0, 20, 20, {0, 0, 0, 255}});
    scene.add(CircleItem{10, 10, 8, {0, 0, 0, 255}});
    scene.add(text("clipped", 0, 15));
    scene.add(ClipEnd{});
    scene.add(RectItem{15, 15, 2, 2, {0, 0, 0, 255}});  // after the clip: drawn
    const Image image = rasterize(scene, Font::builtin());
    CHECK(at(image, 7, 7).r == 0);
    CHECK(is_background(image, 4, 7));
    CHECK(is_background(image, 10, 7));
    CHECK(is_background(image, 7, 12));
    CHECK(at(image, 16, 16).r == 0);
    // A fractional clip edge weights its pixels.
    Scene half = blank(10, 10);
    half.add(ClipBegin{0, 0, 4.5f, 10});
    half.add(CircleItem{4, 5, 4, {0, 0, 0, 255}});
    half.add(ClipEnd{});
    CHECK(std::abs(at(rasterize(half, Font::builtin()), 4, 5).r - 128) <= 2);
}

TEST_CASE("anchor Middle centres text on x; End ends it there") {
    for (const Font& font : {system_font(), Font::builtin()}) {
        Scene scene = blank(200, 40);
        TextItem t = text("Middle anchored", 100, 20);
        t.anchor = Anchor::Middle, t.baseline = Baseline::Middle;
        scene.add(t);
        const Ink ink = ink_of(rasterize(scene, font));
        CHECK(std::abs((ink.x0 + ink.x1 + 1) / 2.0 - 100) <= 2);
        CHECK(std::abs((ink.y0 + ink.y1 + 1) / 2.0 - 20) <= 4);

        Scene end = blank(200, 40);
        t.anchor = Anchor::End;
        end.add(t);
        // The last advance includes the glyph's right side bearing: ink ends just before x.
        const int end_x = ink_of(rasterize(end, font)).x1 + 1;
        CHECK(end_x <= 101);
        CHECK(end_x >= 96);
    }
}

TEST_CASE("text rotated by -90 degrees covers a tall thin area reading upwards") {
    for (const Font& font : {system_font(), Font::builtin()}) {
        Scene scene = blank(60, 200);
        TextItem t = text("Attending tokens", 30, 100, 14);
        t.anchor = Anchor::Middle, t.baseline = Baseline::Middle, t.rotation_deg = -90;
        scene.add(t);
        const Ink ink = ink_of(rasterize(scene, font));
        CHECK(ink.height() > 3 * ink.width());
        CHECK(std::abs(ink.height() - font.text_width(t.utf8, 14)) <= 4);
        CHECK(std::abs((ink.y0 + ink.y1 + 1) / 2.0 - 100) <= 3);
        CHECK(std::abs((ink.x0 + ink.x1 + 1) / 2.0 - 30) <= 4);

        // +90 and -90 mirror each other's extent; 45 degrees spans both axes.
        Scene down = blank(60, 200);
        t.rotation_deg = 90;
        down.add(t);
        CHECK(std::abs(ink_of(rasterize(down, font)).height() - ink.height()) <= 2);
        Scene slanted = blank(200, 200);
        t.x = 100, t.rotation_deg = 45;
        slanted.add(t);
        const Ink s = ink_of(rasterize(slanted, font));
        CHECK(std::abs(s.width() - s.height()) <= 4);
        CHECK(s.width() > ink.height() / 2);
    }
}

TEST_CASE("hostile items are skipped or clipped, never out of bounds") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    Scene scene = blank(30, 30);
    scene.add(ClipEnd{});  // unbalanced: ignored
    scene.add(RectItem{-1e30f, -1e30f, 2e30f, 2e30f, {0, 0, 0, 10}, {0, 0, 0, 255}, 1e20f});
    scene.add(RectItem{nan, 0, 5, 5, {0, 0, 0, 255}});
    scene.add(RectItem{10, 10, -5, -5, {0, 0, 0, 255}});  // negative extent: normalised
    scene.add(CircleItem{15, 15, 1e9f, {0, 0, 0, 10}, {0, 0, 0, 255}, 3});
    scene.add(CircleItem{inf, 15, 3, {0, 0, 0, 255}});
    scene.add(GradientCircleItem{15, 15, 0, {}, {}});
    PolylineItem line;
    line.points = {{-1e20f, -1e20f}, {1e20f, 1e20f}, {15, 15}, {15, 15}};
    line.stroke = {0, 0, 0, 255};
    scene.add(line);
    line.points = {{0, 0}, {nan, 3}};
    scene.add(line);
    scene.add(text("far away", 1e30f, 1e30f));
    scene.add(text("\xFF\xFE broken \xE2\x80", -10, 15, 30));
    TextItem t = text("huge", 0, 0, 1e9f);
    scene.add(t);
    t = text("rotated", 15, 15, 12);
    t.rotation_deg = 1e30f;
    scene.add(t);
    scene.add(ClipBegin{nan, 0, 1, 1});
    scene.add(RectItem{0, 0, 30, 30, {255, 0, 0, 255}});  // hidden by the empty clip
    scene.add(ClipEnd{});
    const Image image = rasterize(scene, system_font());
    CHECK(image.rgba.size() == 30u * 30u * 4u);
    CHECK(at(image, 7, 7).r == 0);  // the normalised rectangle
    CHECK_THROWS_AS(rasterize(blank(1e6f, 1e6f), Font::builtin()), headmap::Error);
    CHECK_THROWS_AS(rasterize(blank(10, 10), Font::builtin(), nan), headmap::Error);
    CHECK(rasterize(blank(0, 0), Font::builtin()).rgba.empty());
}

TEST_CASE("rasterizing is deterministic and scale multiplies sizes") {
    Scene scene = blank(120, 60);
    scene.add(RectItem{10.3f, 5.7f, 30.2f, 20.1f, {40, 50, 60, 200}, {0, 0, 0, 255}, 1.5f});
    scene.add(CircleItem{70, 30, 12.5f, {200, 10, 10, 180}, {0, 0, 0, 255}, 0.7f});
    TextItem t = text("Determinism \xE2\x80\xA6 AV", 5, 50, 11);
    scene.add(t);
    t.rotation_deg = 30, t.y = 20;
    scene.add(t);
    const Image a = rasterize(scene, system_font()), b = rasterize(scene, system_font());
    CHECK(a.rgba == b.rgba);
    const Image big = rasterize(scene, system_font(), 2);
    CHECK(big.width == 240);
    CHECK(big.height == 120);
    CHECK(at(big, 40, 30).r == at(a, 20, 15).r);
}

TEST_CASE("a Font can be shared by threads drawing at once") {
    Scene scene = blank(300, 40);
    scene.add(text("Concurrent glyph caches \xE2\x80\xA6 0123456789", 2, 30, 13));
    const Font font = load_font();  // a fresh, empty glyph cache
    std::vector<Image> images(4);
    std::vector<std::thread> threads;
    for (Image& image : images) threads.emplace_back([&] { image = rasterize(scene, font); });
    for (std::thread& t : threads) t.join();
    for (const Image& image : images) CHECK(image.rgba == images[0].rgba);
}

TEST_CASE("PNG bytes carry the signature and decode to the same pixels") {
    Scene scene = blank(33, 17);
    scene.background = {10, 20, 30, 255};
    scene.add(RectItem{3.5f, 2, 10, 10, {250, 128, 0, 160}});
    scene.add(text("png", 15, 14, 10));
    const Image image = rasterize(scene, system_font());
    const std::vector<uint8_t> png = encode_png(image);
    REQUIRE(png.size() > 8);
    const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    CHECK(std::equal(signature, signature + 8, png.begin()));
    int w = 0, h = 0, channels = 0;
    uint8_t* decoded = stbi_load_from_memory(png.data(), int(png.size()), &w, &h, &channels, 4);
    REQUIRE(decoded != nullptr);
    CHECK(w == 33);
    CHECK(h == 17);
    CHECK(std::equal(image.rgba.begin(), image.rgba.end(), decoded));
    stbi_image_free(decoded);
    CHECK_THROWS_AS(encode_png(Image{}), headmap::Error);
}

TEST_CASE("format_for picks the format from the extension, case-insensitively") {
    CHECK(format_for("a/map.png") == ImageFormat::Png);
    CHECK(format_for("map.PNG") == ImageFormat::Png);
    CHECK(format_for("map.Svg") == ImageFormat::Svg);
    CHECK(format_for("map.pdf") == ImageFormat::Pdf);
    try {
        format_for("map.jpg");
        FAIL("expected headmap::Error");
    } catch (const headmap::Error& e) {
        CHECK(std::string(e.what()) ==
              "map.jpg: unsupported image format (expected .png, .svg or .pdf)");
    }
    CHECK_THROWS_AS(format_for("map"), headmap::Error);
}

TEST_CASE("write_scene writes a PNG atomically and leaves nothing behind on failure") {
    TempDir dir;
    Scene scene = blank(8, 8);
    scene.add(RectItem{0, 0, 4, 4, {0, 0, 0, 255}});
    const fs::path out = dir.path / "map.png";
    write_scene(scene, Font::builtin(), out, 2);
    int w = 0, h = 0, channels = 0;
    uint8_t* decoded = stbi_load(out.c_str(), &w, &h, &channels, 4);
    REQUIRE(decoded != nullptr);
    CHECK(w == 16);
    stbi_image_free(decoded);
    CHECK(dir.entries() == 1);

    CHECK_THROWS_AS(write_scene(scene, Font::builtin(), dir.path / "missing" / "map.png"),
                    headmap::Error);
    fs::create_directory(dir.path / "taken.png");  // a directory where the file should go
    CHECK_THROWS_AS(write_scene(scene, Font::builtin(), dir.path / "taken.png"), headmap::Error);
    CHECK_THROWS_AS(write_scene(scene, Font::builtin(), dir.path / "map.gif"), headmap::Error);
    CHECK(dir.entries() == 2);  // map.png and the taken.png directory: no temporary files
    CHECK_FALSE(fs::exists(dir.path / "map.gif"));
}
