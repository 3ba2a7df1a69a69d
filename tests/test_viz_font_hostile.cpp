// Hostile TrueType files (issue 15): a real DejaVu Sans with one field corrupted at a time, and
// fuzzer finds (tests/data/fonts/hostile/), must be refused by Font::from_files with a
// headmap::Error naming the file and the broken structure, never crash or read out of bounds
// in stb_truetype; the intact font still loads and draws as before.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "test_support.h"
#include "tools/viz_io.h"
#include "viz/font.h"
#include "viz/render.h"

using namespace headmap::viz;
namespace fs = std::filesystem;
using test_support::read_file;

namespace {

// DejaVu Sans: the system's when installed (the default font's file), else the subset of it
// that seeds the font fuzzer.
const std::string& dejavu() {
    static const std::string bytes = [] {
        const Font system = headmap::viz_io::load_font();
        const fs::path path =
            !system.is_builtin() && system.name() == "DejaVu Sans"
                ? fs::path(system.file_name())
                : test_support::kSourceDir / "tests/fuzz/corpus/font/sans-latin.ttf";
        return read_file(path);
    }();
    return bytes;
}

// A font's bytes with big-endian accessors and its tables located (first record per tag, as
// stb_truetype reads them).
struct Sfnt {
    std::string bytes = dejavu();

    uint32_t u16(size_t at) const {
        return uint32_t(uint8_t(bytes.at(at))) << 8 | uint8_t(bytes.at(at + 1));
    }
    uint32_t u32(size_t at) const { return u16(at) << 16 | u16(at + 2); }
    void set16(size_t at, uint32_t v) {
        bytes.at(at) = char(v >> 8);
        bytes.at(at + 1) = char(v);
    }
    void set32(size_t at, uint32_t v) {
        set16(at, v >> 16);
        set16(at + 2, v & 0xFFFF);
    }
    size_t record(const char* tag) const {
        for (size_t t = 0, n = u16(4); t < n; ++t)
            if (bytes.compare(12 + 16 * t, 4, tag) == 0) return 12 + 16 * t;
        FAIL("no table ", tag);
        return 0;
    }
    size_t table(const char* tag) const { return u32(record(tag) + 8); }
    size_t length(const char* tag) const { return u32(record(tag) + 12); }

    // Where glyph g's outline starts in the file, and its length.
    size_t glyph(int g, size_t* size = nullptr) const {
        const bool is_long = u16(table("head") + 50) == 1;
        const size_t loca = table("loca");
        const auto at = [&](int i) -> size_t {
            return is_long ? u32(loca + 4 * size_t(i)) : 2 * size_t(u16(loca + 2 * size_t(i)));
        };
        if (size) *size = at(g + 1) - at(g);
        return table("glyf") + at(g);
    }
    int num_glyphs() const { return int(u16(table("maxp") + 4)); }

    // Makes stb_truetype use the format 4 cmap subtable: the records it would prefer (Unicode
    // full repertoire, format 12) get a platform it does not read.
    size_t use_cmap_format4() {
        const size_t cmap = table("cmap");
        size_t chosen = 0;
        for (size_t r = 0, n = u16(cmap + 2); r < n; ++r) {
            const size_t rec = cmap + 4 + 8 * r;
            const size_t sub = cmap + u32(rec + 4);
            if (u16(sub) != 4)
                set16(rec, 7);
            else if (u16(rec) == 0 || u16(rec) == 3)
                chosen = sub;
        }
        REQUIRE(chosen != 0);
        return chosen;
    }
    // The first composite glyph drawn for one of `code_points`.
    int composite(const Font& font, std::u32string_view code_points) const {
        for (char32_t cp : code_points) {
            const int g = font.glyph_index(cp);
            size_t size = 0;
            const size_t at = glyph(g, &size);
            if (size >= 10 && int16_t(u16(at)) < 0) return g;
        }
        FAIL("no composite glyph");
        return 0;
    }
};

Font load(const std::string& bytes, const std::string& name = "hostile.ttf") {
    return Font::from_files({bytes, name});
}

// Everything the views ask of a font, to be run on whatever from_files accepts.
uint64_t exercise(const Font& font) {
    uint64_t sum = 0;
    for (const char* text :
         {"AV To Wa", "h\xC3\xA9llo \xE2\x80\xA6", "\xE6\x97\xA5\xF0\x9F\x98\x80"})
        sum += uint64_t(font.text_width(text, 12) * 64) + font.elide(text, 12, 30).size();
    for (char32_t cp :
         std::u32string_view(U"AVag\u00e9\u00f6\u00c5\u01fa\u00e8\u00fc\u2026\U0001F600")) {
        const Font::Glyph g = font.glyph(cp, 14, 0.25f);
        for (uint8_t c : g.coverage) sum = sum * 31 + c;
        sum += uint64_t(font.glyph_advance_1000(font.glyph_index(cp)));
    }
    return sum;
}

// from_files refuses `bytes` with one line naming the file and `problem`.
void check_refused(const std::string& bytes, const std::string& problem) {
    CAPTURE(problem);
    try {
        // Before the check, stb_truetype accepted such fonts and read out of bounds only when
        // the views measured and drew with them.
        const Font font = load(bytes);
        (void)exercise(font);
        FAIL("accepted");
    } catch (const headmap::Error& e) {
        const std::string what = e.what();
        INFO("message: ", what);
        CHECK(e.status() == headmap::Status::BadInput);
        CHECK(what.find("hostile.ttf") != std::string::npos);
        CHECK(what.find(problem) != std::string::npos);
        CHECK(what.find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("the intact font loads, kerns and draws as the system font does") {
    const Font font = load(dejavu(), "DejaVuSans.ttf");
    CHECK(font.name() == "DejaVu Sans");
    CHECK(font.has_glyph('A'));
    CHECK(font.kerning('A', 'V', 100) < 0);
    const Font system = headmap::viz_io::load_font();
    if (!system.is_builtin() && system.name() == "DejaVu Sans")
        CHECK(exercise(font) == exercise(system));
}

TEST_CASE("table directory: counts and offsets past the end of the file") {
    Sfnt s;
    s.set16(4, 0xFFFF);
    check_refused(s.bytes, "table directory of 65535 tables");
    s = Sfnt();
    s.set32(s.record("glyf") + 12, 0x7FFFFFFF);
    check_refused(s.bytes, "table 'glyf'");
    s = Sfnt();
    s.bytes.replace(s.record("glyf"), 4, "glyx");
    check_refused(s.bytes, "'glyf' table is missing");
    s = Sfnt();
    s.bytes.replace(0, 4, "OTTO");
    check_refused(s.bytes, "CFF");
}

TEST_CASE("a file truncated anywhere before its last table's end is refused") {
    const Sfnt s;
    const std::string& font = s.bytes;
    size_t end = 0;  // past that, only padding
    for (size_t t = 0, n = s.u16(4); t < n; ++t)
        end = std::max<size_t>(end, s.u32(12 + 16 * t + 8) + s.u32(12 + 16 * t + 12));
    REQUIRE(end <= font.size());
    std::vector<size_t> lengths = {0, 1, 11, 12, 13, 100, 500, end - 1};
    for (size_t n = 997; n < end; n += end / 97) lengths.push_back(n);
    for (size_t n : lengths) {
        CAPTURE(n);
        CHECK_THROWS_AS(load(font.substr(0, n)), headmap::Error);
    }
}

TEST_CASE("head, hhea, maxp and hmtx fields stb_truetype trusts") {
    Sfnt s;
    s.set16(s.table("head") + 50, 2);
    check_refused(s.bytes, "loca format 2");
    s = Sfnt();
    s.set16(s.table("hhea") + 34, 0);
    check_refused(s.bytes, "numberOfHMetrics is 0");
    s = Sfnt();
    s.set32(s.record("hmtx") + 12, 8);  // hmtx truncated to two metrics
    check_refused(s.bytes, "'hmtx' table (8 bytes) is too short");
    s = Sfnt();
    s.set16(s.table("maxp") + 4, 0xFFFF);  // more glyphs than loca and hmtx hold
    check_refused(s.bytes, "too short");
}

TEST_CASE("cmap: encoding records, subtable offsets, formats and format 4 searches") {
    Sfnt s;
    s.set16(s.table("cmap") + 2, 0xFFFF);
    check_refused(s.bytes, "cmap encoding records");
    s = Sfnt();
    s.set32(s.table("cmap") + 8, 0x7FFFFFF0);  // every record's subtable offset past the table
    s.set32(s.table("cmap") + 16, 0x7FFFFFF0);
    s.set32(s.table("cmap") + 24, 0x7FFFFFF0);
    s.set32(s.table("cmap") + 32, 0x7FFFFFF0);
    s.set32(s.table("cmap") + 40, 0x7FFFFFF0);
    check_refused(s.bytes, "cmap subtable's format");

    s = Sfnt();
    size_t sub = s.use_cmap_format4();
    CHECK_NOTHROW(load(s.bytes));  // format 4 alone is fine
    s.set16(sub + 6, 0xFFFE);      // segCount 32767
    check_refused(s.bytes, "cmap format 4 arrays");
    s = Sfnt();
    sub = s.use_cmap_format4();
    s.set16(sub + 12, 0xFFFE);  // rangeShift sends the search far past the table
    check_refused(s.bytes, "cmap format 4 binary search");
    s = Sfnt();
    sub = s.use_cmap_format4();
    s.set16(sub + 10, 0x300);  // entrySelector
    check_refused(s.bytes, "entrySelector 768");
    s = Sfnt();
    sub = s.use_cmap_format4();
    const size_t segments = s.u16(sub + 6) / 2;
    s.set16(sub + 16 + 6 * segments, 0xFFF0);  // segment 0's idRangeOffset
    check_refused(s.bytes, "glyph ids of cmap format 4 segment 0");
    s = Sfnt();
    sub = s.use_cmap_format4();
    s.set16(sub, 2);
    check_refused(s.bytes, "format 2");
}

TEST_CASE("cmap format 12: group count past the table; glyph ids past the font are missing") {
    Sfnt s;
    const size_t cmap = s.table("cmap");
    size_t sub = 0;
    for (size_t r = 0, n = s.u16(cmap + 2); r < n; ++r)
        if (s.u16(cmap + 4 + 8 * r) == 3 && s.u16(cmap + 6 + 8 * r) == 10)
            sub = cmap + s.u32(cmap + 8 + 8 * r);
    if (sub == 0 || s.u16(sub) != 12) return;  // the subset seed has no format 12 subtable
    const Sfnt intact;
    s.set32(sub + 12, 0x7FFFFFFF);
    check_refused(s.bytes, "cmap format 12 groups");
    // Every group's first glyph id far past numGlyphs (and past INT_MAX once the code point
    // is added): stb returns such ids as they are, and Font treats them as missing glyphs.
    s = intact;
    for (size_t g = 0, n = s.u32(sub + 12); g < n; ++g) s.set32(sub + 16 + 12 * g + 8, 0xFFFFFF00);
    const Font font = load(s.bytes);
    CHECK_FALSE(font.has_glyph('A'));
    CHECK(font.glyph_index('A') == 0);
    CHECK(exercise(font) > 0);
}

TEST_CASE("loca and glyf: offsets past the table or backwards, broken simple glyphs") {
    const Font font = load(dejavu());
    const int a = font.glyph_index('a');
    Sfnt s;
    const bool is_long = s.u16(s.table("head") + 50) == 1;
    const size_t loca = s.table("loca");
    const auto set_loca = [&](Sfnt& f, int g, uint32_t offset) {
        if (is_long)
            f.set32(loca + 4 * size_t(g), offset);
        else
            f.set16(loca + 2 * size_t(g), offset / 2);
    };
    set_loca(s, s.num_glyphs(), is_long ? 0x7FFFFFF0 : 0x1FFFE);
    check_refused(s.bytes, "outline runs past the glyf table");
    s = Sfnt();
    set_loca(s, a + 1, 0);
    check_refused(s.bytes, "loca offsets go backwards");

    size_t size = 0;
    const size_t at = Sfnt().glyph(a, &size);
    s = Sfnt();
    s.set16(at, 0x7FFF);  // numberOfContours
    check_refused(s.bytes, "ends inside its contour end points");
    s = Sfnt();
    const int contours = int16_t(s.u16(at));
    REQUIRE(contours > 0);
    s.set16(at + 10 + 2 * size_t(contours - 1), 0xFFFE);  // the last contour's end point
    check_refused(s.bytes, "ends inside its point");
    s = Sfnt();
    s.set16(at + 10 + 2 * size_t(contours), 0xFFFF);  // instruction length
    check_refused(s.bytes, "ends inside its point flags");
    s = Sfnt();
    s.set16(at + 2, 0x7FFF);  // xMin: a box of 16 em; with 16 units per em, 2048 em
    s.set16(s.table("head") + 18, 16);
    check_refused(s.bytes, "over 32 em at 16 units per em");
}

TEST_CASE("composite glyphs: cycles, glyphs past the font, point matching, overflowing scales") {
    const Font font = load(dejavu());
    const std::u32string accented = U"\u00e9\u00f6\u00c5\u01fa\u00e8\u00fc";
    const int g = Sfnt().composite(font, accented);
    const size_t at = Sfnt().glyph(g);
    Sfnt s;
    s.set16(at + 12, uint32_t(g));  // its first component is itself
    check_refused(s.bytes, "glyph " + std::to_string(g) + "'s components refer back to itself");
    s = Sfnt();
    const int other = s.composite(font, U"\u00f6\u00fc\u00c5");
    REQUIRE(other != g);
    s.set16(at + 12, uint32_t(other));  // g -> other -> g
    s.set16(Sfnt().glyph(other) + 12, uint32_t(g));
    check_refused(s.bytes, "refer back to itself");
    s = Sfnt();
    s.set16(at + 12, 0xFFFF);
    check_refused(s.bytes, "refers to glyph 65535");
    s = Sfnt();
    s.set16(at + 10, s.u16(at + 10) & ~2u);  // ARGS_ARE_XY_VALUES cleared
    check_refused(s.bytes, "places a component by point numbers");
    s = Sfnt();
    // WORD offsets at their extremes and a scale near 2: past int16 once transformed.
    const uint32_t flags =
        (s.u16(at + 10) | 1u | 2u | (1u << 3)) & ~((1u << 5) | (1u << 6) | (1u << 7));
    s.set16(at + 10, flags);
    s.set16(at + 14, 0x7FFF), s.set16(at + 16, 0x7FFF), s.set16(at + 18, 0x7FFF);
    check_refused(s.bytes, "past 16-bit coordinates");
}

TEST_CASE("kerning: GPOS offsets and counts out of range, and the old kern table") {
    Sfnt s;
    const size_t gpos = s.table("GPOS");
    s.set16(gpos + 8, 0xFFF0);  // the lookup list past the table
    check_refused(s.bytes, "GPOS lookup list");
    s = Sfnt();
    const size_t list = gpos + s.u16(gpos + 8);
    s.set16(list, 0xFFFF);  // lookup count
    check_refused(s.bytes, "GPOS lookup list");
    // The first pair-adjustment subtable's class counts.
    s = Sfnt();
    size_t pair = 0;
    for (size_t l = 0, n = s.u16(list); l < n && !pair; ++l) {
        const size_t lookup = list + s.u16(list + 2 + 2 * l);
        if (s.u16(lookup) == 2) pair = lookup + s.u16(lookup + 6);
    }
    REQUIRE(pair != 0);
    if (s.u16(pair) == 2) {
        s.set16(pair + 12, 0xFFFF);
        s.set16(pair + 14, 0xFFFF);
        check_refused(s.bytes, "GPOS class pair array");
    }
    s = Sfnt();
    s.set16(pair + 2, 0xFFFF);  // coverage offset
    check_refused(s.bytes, "GPOS coverage");

    // Without a GPOS table stb_truetype kerns from 'kern'.
    s = Sfnt();
    s.bytes.replace(s.record("GPOS"), 4, "GPOX");
    CHECK(load(s.bytes).kerning('A', 'V', 100) < 0);
    const size_t kern = s.table("kern");
    s.set16(kern + 10, 0xFFFF);  // nPairs
    check_refused(s.bytes, "kern pair array");
    s.set16(kern + 10, 1);
    s.set32(s.record("kern") + 12, 12);  // a kern table length that lies
    check_refused(s.bytes, "'kern' table (12 bytes)");
}

TEST_CASE("fuzzer finds: refused with a message, never a crash") {
    const fs::path dir = test_support::kTestData / "fonts" / "hostile";
    int seen = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        ++seen;
        CAPTURE(entry.path().string());
        CHECK_THROWS_AS(load(read_file(entry.path()), entry.path().string()), headmap::Error);
    }
    CHECK(seen >= 4);
}

TEST_CASE("a broken system or bold font falls back, a broken --font is an error") {
    Sfnt broken;
    broken.set16(broken.table("hhea") + 34, 0);
    // A broken bold face is dropped: bold text uses the regular one.
    const Font font = Font::from_files({dejavu(), "DejaVuSans.ttf"},
                                       Font::File{broken.bytes, "DejaVuSans-Bold.ttf"});
    CHECK_FALSE(font.has_bold_face());
    CHECK(font.text_width("Bold", 12, true) == font.text_width("Bold", 12, false));
    test_support::TempDir dir;
    const fs::path path = dir.path / "hostile.ttf";
    test_support::write_file(path, broken.bytes);
    CHECK_THROWS_WITH_AS(headmap::viz_io::load_font(path), doctest::Contains("numberOfHMetrics"),
                         headmap::Error);
}
