// Fonts: a TrueType face read with stb_truetype, or the builtin bitmap font built from
// stb_easy_font's segment glyphs. Measuring and drawing share the same advance and kerning
// helpers, so a label measured by a view lands exactly where the raster back end draws it.
#include "viz/font.h"

#include <stb_easy_font.h>
#include <stb_truetype.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <span>
#include <unordered_map>

#include "headmap/error.hpp"
#include "viz/font_check.h"

namespace headmap::viz {

std::u32string decode_utf8(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    size_t i = 0;
    while (i < utf8.size()) {
        const auto b0 = uint8_t(utf8[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        // The second byte's allowed range excludes overlong forms, surrogates and > U+10FFFF.
        int need = 0;
        char32_t cp = 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1, cp = b0 & 0x1Fu;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2, cp = b0 & 0x0Fu;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3, cp = b0 & 0x07u;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        size_t j = i + 1;
        bool ok = true;
        for (int k = 0; k < need; ++k, ++j) {
            const auto b = j < utf8.size() ? uint8_t(utf8[j]) : uint8_t(0);
            if (j >= utf8.size() || b < lo || b > hi) {
                ok = false;
                break;
            }
            lo = 0x80, hi = 0xBF;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        // On failure the valid prefix [i, j) is the maximal subpart; decoding resumes at j.
        out.push_back(ok ? cp : char32_t(0xFFFD));
        i = j;
    }
    return out;
}

namespace {

std::string encode_utf8(std::u32string_view code_points) {
    std::string out;
    for (char32_t c : code_points) {
        if (c < 0x80) {
            out += char(c);
        } else if (c < 0x800) {
            out += char(0xC0 | (c >> 6));
            out += char(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += char(0xE0 | (c >> 12));
            out += char(0x80 | ((c >> 6) & 0x3F));
            out += char(0x80 | (c & 0x3F));
        } else {
            out += char(0xF0 | (c >> 18));
            out += char(0x80 | ((c >> 12) & 0x3F));
            out += char(0x80 | ((c >> 6) & 0x3F));
            out += char(0x80 | (c & 0x3F));
        }
    }
    return out;
}

constexpr char32_t kEllipsis = 0x2026;

float overlap(float a0, float a1, float b0, float b1) {
    return std::max(0.0f, std::min(a1, b1) - std::max(a0, b0));
}

uint8_t to_coverage(float c) {
    return uint8_t(std::lround(std::clamp(c, 0.0f, 1.0f) * 255.0f));
}

// ---- TrueType faces ---------------------------------------------------------------------

struct Face {
    std::string name;           // what the caller called the file (its path)
    std::vector<uint8_t> data;  // stbtt_fontinfo points into it: a Face never moves (unique_ptr)
    stbtt_fontinfo info{};
    std::string family;
    int units_per_em = 1000;
    int ascent = 0, descent = 0;  // font units, both positive

    float scale(float size) const { return float(size) / float(units_per_em); }
};

uint32_t be16(std::span<const uint8_t> d, size_t at) {
    return uint32_t(d[at]) << 8 | d[at + 1];
}

// The family name (name ID 1), read with bounds checks (stb's reader has none).
std::string family_name(std::span<const uint8_t> d, const FontTable& name) {
    if (name.length < 6) return "";
    const auto table = d.subspan(name.offset, name.length);
    const size_t count = be16(table, 2), strings = be16(table, 4);
    std::string mac;
    for (size_t r = 0; r < count && 6 + 12 * (r + 1) <= table.size(); ++r) {
        const size_t rec = 6 + 12 * r;
        const uint32_t platform = be16(table, rec), id = be16(table, rec + 6);
        const size_t length = be16(table, rec + 8), at = strings + be16(table, rec + 10);
        if (id != 1 || at + length > table.size()) continue;
        std::string text;
        if (platform == 3 || platform == 0) {  // UTF-16BE; non-ASCII kept as '?'
            for (size_t k = 0; k + 1 < length; k += 2) {
                const uint32_t u = be16(table, at + k);
                text += u < 0x80 ? char(u) : '?';
            }
            return text;
        }
        if (platform == 1 && mac.empty())
            mac.assign(reinterpret_cast<const char*>(&table[at]), length);
    }
    return mac;
}

std::unique_ptr<Face> parse_face(const Font::File& file) {
    const std::string what = "font " + file.name + ": ";
    const std::string expected = " (expected a TrueType .ttf font file)";
    auto face = std::make_unique<Face>();
    face->name = file.name;
    face->data.assign(file.bytes.begin(), file.bytes.end());
    // stb_truetype trusts its input: it only sees bytes whose every structure it reads was
    // checked to lie inside them (viz/font_check.h).
    CheckedFont checked;
    if (const std::string why = check_truetype(face->data, checked); !why.empty())
        throw Error(what + why + expected);
    if (!stbtt_InitFont(&face->info, face->data.data(), 0) ||
        face->info.numGlyphs != checked.num_glyphs)
        throw Error(what + "stb_truetype cannot read it" + expected);
    face->units_per_em = checked.units_per_em;
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&face->info, &ascent, &descent, &gap);
    face->ascent = ascent, face->descent = -descent;
    if (checked.name) face->family = family_name(face->data, *checked.name);
    if (face->family.empty()) face->family = std::filesystem::path(file.name).stem().string();
    return face;
}

// ---- the builtin bitmap font --------------------------------------------------------------

// stb_easy_font's glyphs are unions of unit squares: caps 7 units tall above the baseline,
// descenders 2 below. They are kept on a half-unit grid so the fake bold (the glyph ORed with
// itself shifted right by half a unit) stays on the grid. One em is 10 units.
constexpr int kHalfRows = 18, kBaselineRow = 14;  // half-unit rows; the baseline is row 14
constexpr float kBuiltinUnitsPerEm = 10;

struct BuiltinGlyph {
    int advance = 0;                         // units
    std::array<uint32_t, kHalfRows> rows{};  // bit c: half-unit column c is inked
};

// The marks display_token (viz/views.h) puts in GPT-2 labels, drawn by hand on the half-unit
// grid, so labels drawn with the builtin font show them instead of missing-glyph boxes.
constexpr char32_t kOpenBox = U'\u2423';      // ␣: a token's leading space
constexpr char32_t kReturnArrow = U'\u21B5';  // ↵: a newline

// Index code point - 32 for ASCII 32..126, then 95: the ellipsis (three full stops), 96: ␣,
// 97: ↵.
const std::array<BuiltinGlyph, 98>& builtin_glyphs() {
    static const std::array<BuiltinGlyph, 98> glyphs = [] {
        std::array<BuiltinGlyph, 98> all{};
        alignas(float) std::array<char, 64 * 64> vertices;  // 64 bytes per quad; <= 11 quads
        for (int c = 32; c < 127; ++c) {
            char text[2] = {char(c), 0};
            const int quads =
                stb_easy_font_print(0, 0, text, nullptr, vertices.data(), int(vertices.size()));
            BuiltinGlyph& g = all[size_t(c - 32)];
            g.advance = stb_easy_font_charinfo[c - 32].advance & 15;
            for (int q = 0; q < quads; ++q) {
                float v0[2], v2[2];  // opposite corners: the quad's vertices 0 and 2
                std::memcpy(v0, &vertices[size_t(q) * 64], sizeof v0);
                std::memcpy(v2, &vertices[size_t(q) * 64 + 32], sizeof v2);
                for (int r = int(v0[1]) * 2; r < int(v2[1]) * 2 && r < kHalfRows; ++r)
                    for (int col = int(v0[0]) * 2; col < int(v2[0]) * 2; ++col)
                        g.rows[size_t(r)] |= 1u << col;
            }
        }
        BuiltinGlyph& ellipsis = all[95];
        const BuiltinGlyph& stop = all['.' - 32];
        for (size_t r = 0; r < kHalfRows; ++r)
            ellipsis.rows[r] = stop.rows[r] | stop.rows[r] << 4 | stop.rows[r] << 8;
        ellipsis.advance = 4 + stop.advance;
        // ␣: two uprights one unit tall on a bar along the baseline, 5 units wide.
        BuiltinGlyph& open_box = all[96];
        open_box.rows[10] = open_box.rows[11] = 0x303;
        open_box.rows[12] = open_box.rows[13] = 0x3FF;
        open_box.advance = 6;
        // ↵: a stem down the right side turning left into an arrow.
        BuiltinGlyph& arrow = all[97];
        for (size_t r = 4; r < 8; ++r) arrow.rows[r] = 0x300;
        arrow.rows[8] = arrow.rows[9] = 0x30C;
        arrow.rows[10] = arrow.rows[11] = 0x3FF;
        arrow.rows[12] = arrow.rows[13] = 0x00C;
        arrow.advance = 6;
        return all;
    }();
    return glyphs;
}

const BuiltinGlyph* builtin_glyph(char32_t cp) {
    if (cp >= 32 && cp < 127) return &builtin_glyphs()[cp - 32];
    if (cp == kEllipsis) return &builtin_glyphs()[95];
    if (cp == kOpenBox) return &builtin_glyphs()[96];
    if (cp == kReturnArrow) return &builtin_glyphs()[97];
    return nullptr;
}

float builtin_advance(const BuiltinGlyph& g, float size, bool bold) {
    return (float(g.advance) + (bold ? 0.5f : 0.0f)) * (size / kBuiltinUnitsPerEm);
}

Font::Glyph builtin_bitmap(const BuiltinGlyph& g, float size, float shift, bool bold) {
    Font::Glyph out;
    out.advance = builtin_advance(g, size, bold);
    std::array<uint32_t, kHalfRows> rows = g.rows;
    if (bold)
        for (auto& row : rows) row |= row << 1;
    int r0 = kHalfRows, r1 = -1, c0 = 32, c1 = -1;
    for (int r = 0; r < kHalfRows; ++r) {
        if (!rows[size_t(r)]) continue;
        r0 = std::min(r0, r), r1 = r;
        c0 = std::min(c0, std::countr_zero(rows[size_t(r)]));
        c1 = std::max(c1, 31 - std::countl_zero(rows[size_t(r)]));
    }
    if (r1 < 0) return out;                           // the space
    const float h = size / (2 * kBuiltinUnitsPerEm);  // half a unit, px
    const int x0 = int(std::floor(shift + float(c0) * h));
    const int x1 = int(std::ceil(shift + float(c1 + 1) * h));
    const int y0 = int(std::floor(float(r0 - kBaselineRow) * h));
    const int y1 = int(std::ceil(float(r1 + 1 - kBaselineRow) * h));
    out.width = x1 - x0, out.height = y1 - y0, out.offset_x = x0, out.offset_y = y0;
    out.coverage.assign(size_t(out.width) * size_t(out.height), 0);
    // Exact area coverage: each pixel sums its overlap with every inked half-unit cell.
    for (int py = y0; py < y1; ++py) {
        for (int px = x0; px < x1; ++px) {
            float area = 0;
            for (int r = r0; r <= r1; ++r) {
                const float top = float(r - kBaselineRow) * h;
                const float oy = overlap(float(py), float(py + 1), top, top + h);
                if (oy <= 0) continue;
                for (uint32_t bits = rows[size_t(r)]; bits; bits &= bits - 1) {
                    const float left = shift + float(std::countr_zero(bits)) * h;
                    area += oy * overlap(float(px), float(px + 1), left, left + h);
                }
            }
            out.coverage[size_t(py - y0) * size_t(out.width) + size_t(px - x0)] = to_coverage(area);
        }
    }
    return out;
}

// ---- the missing-glyph box ----------------------------------------------------------------

constexpr float kBoxAdvance = 0.6f;  // em

// A hollow box about the x-height tall, so a missing glyph is visible but not loud.
Font::Glyph box_bitmap(float size, float shift) {
    Font::Glyph out;
    out.advance = kBoxAdvance * size;
    const float left = shift + 0.08f * size, right = left + 0.42f * size;
    const float top = -0.55f * size, bottom = 0;
    const float t = std::min(std::max(1.0f, 0.07f * size), 0.21f * size);
    const int x0 = int(std::floor(left)), x1 = int(std::ceil(right));
    const int y0 = int(std::floor(top)), y1 = int(std::ceil(bottom));
    out.width = x1 - x0, out.height = y1 - y0, out.offset_x = x0, out.offset_y = y0;
    out.coverage.assign(size_t(out.width) * size_t(out.height), 0);
    for (int py = y0; py < y1; ++py)
        for (int px = x0; px < x1; ++px) {
            const float fx = float(px), fy = float(py);
            const float outer = overlap(fx, fx + 1, left, right) * overlap(fy, fy + 1, top, bottom);
            const float inner =
                overlap(fx, fx + 1, left + t, right - t) * overlap(fy, fy + 1, top + t, bottom - t);
            out.coverage[size_t(py - y0) * size_t(out.width) + size_t(px - x0)] =
                to_coverage(outer - inner);
        }
    return out;
}

struct GlyphKey {
    char32_t code_point;
    uint32_t size_bits;  // the exact float size: views use a handful of sizes
    uint32_t shift;      // quarter pixels, 0..4
    bool bold;
    bool operator==(const GlyphKey&) const = default;
};
struct GlyphKeyHash {
    size_t operator()(const GlyphKey& k) const {
        uint64_t h = (uint64_t(k.code_point) << 32 | k.size_bits) * 0x9E3779B97F4A7C15ull;
        return size_t(h ^ (h >> 29) ^ (uint64_t(k.shift) << 1 | k.bold));
    }
};

// Quarter-pixel positioning: finer steps are invisible at label sizes and would multiply the
// cache.
constexpr int kSubpixelSteps = 4;
constexpr size_t kMaxCachedGlyphs = 1 << 16;  // a guard against unbounded size variety

bool usable_size(float size) {
    return std::isfinite(size) && size > 0 && size < 4096;
}

}  // namespace

struct Font::Impl {
    std::unique_ptr<Face> regular, bold;  // regular null: the builtin font; bold null: regular
    mutable std::mutex mutex;             // guards the caches: Fonts are shared across threads
    mutable std::unordered_map<GlyphKey, Glyph, GlyphKeyHash> glyphs;
    mutable std::unordered_map<uint64_t, int> kerning;  // font units by glyph pair

    const Face* face(bool want_bold) const {
        return want_bold && bold ? bold.get() : regular.get();
    }

    int glyph_index(char32_t cp, bool want_bold) const {
        const Face* f = face(want_bold);
        if (!f || cp > 0x10FFFF) return 0;
        // cmap entries may name glyphs the font does not have (format 12's arithmetic can
        // even overflow to negative ones); stb's metrics and outline reads trust the index.
        const int gi = stbtt_FindGlyphIndex(&f->info, int(cp));
        return gi > 0 && gi < f->info.numGlyphs ? gi : 0;
    }

    // Advance in px; the one definition both measuring and drawing use.
    float advance(char32_t cp, float size, bool want_bold) const {
        const Face* f = face(want_bold);
        if (!f) {
            const BuiltinGlyph* g = builtin_glyph(cp);
            return g ? builtin_advance(*g, size, want_bold) : kBoxAdvance * size;
        }
        const int gi = glyph_index(cp, want_bold);
        if (gi == 0) return kBoxAdvance * size;
        int advance = 0, bearing = 0;
        stbtt_GetGlyphHMetrics(&f->info, gi, &advance, &bearing);
        return float(advance) * f->scale(size);
    }

    // Kerning in px between two code points (0 next to a missing glyph or for the builtin).
    float kern(char32_t left, char32_t right, float size, bool want_bold) const {
        const Face* f = face(want_bold);
        if (!f) return 0;
        const int a = glyph_index(left, want_bold), b = glyph_index(right, want_bold);
        if (a == 0 || b == 0) return 0;
        // stb_truetype scans the GPOS lookups for each pair: memoised, as labels repeat pairs.
        const uint64_t key = uint64_t(want_bold && bold) << 40 | uint64_t(a) << 20 | uint64_t(b);
        int units = 0;
        {
            std::lock_guard lock(mutex);
            if (auto it = kerning.find(key); it != kerning.end()) {
                units = it->second;
            } else {
                units = stbtt_GetGlyphKernAdvance(&f->info, a, b);
                kerning.emplace(key, units);
            }
        }
        return float(units) * f->scale(size);
    }

    Glyph render(char32_t cp, float size, float shift, bool want_bold) const {
        const Face* f = face(want_bold);
        if (!f) {
            const BuiltinGlyph* g = builtin_glyph(cp);
            return g ? builtin_bitmap(*g, size, shift, want_bold) : box_bitmap(size, shift);
        }
        const int gi = glyph_index(cp, want_bold);
        if (gi == 0) return box_bitmap(size, shift);
        Glyph out;
        out.advance = advance(cp, size, want_bold);
        const float s = f->scale(size);
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        stbtt_GetGlyphBitmapBoxSubpixel(&f->info, gi, s, s, shift, 0, &x0, &y0, &x1, &y1);
        if (x1 <= x0 || y1 <= y0) return out;  // blank glyphs (the space)
        out.width = x1 - x0, out.height = y1 - y0, out.offset_x = x0, out.offset_y = y0;
        out.coverage.assign(size_t(out.width) * size_t(out.height), 0);
        stbtt_MakeGlyphBitmapSubpixel(&f->info, out.coverage.data(), out.width, out.height,
                                      out.width, s, s, shift, 0, gi);
        return out;
    }
};

namespace {

std::shared_ptr<const Font::Impl> builtin_impl() {
    static const auto impl = std::make_shared<const Font::Impl>();
    return impl;
}

}  // namespace

Font Font::from_files(File regular, std::optional<File> bold) {
    auto impl = std::make_shared<Impl>();
    impl->regular = parse_face(regular);
    if (bold) {
        try {
            impl->bold = parse_face(*bold);
        } catch (const Error&) {
            // bold text falls back to the regular face
        }
    }
    Font font;
    font.impl_ = std::move(impl);
    return font;
}

Font Font::builtin() {
    Font font;
    font.impl_ = builtin_impl();
    return font;
}

const Font::Impl& Font::impl() const {
    return impl_ ? *impl_ : *builtin_impl();
}

bool Font::is_builtin() const {
    return impl().regular == nullptr;
}

std::string Font::name() const {
    return is_builtin() ? "builtin" : impl().regular->family;
}

std::string Font::file_name(bool bold) const {
    return is_builtin() ? std::string() : impl().face(bold)->name;
}

bool Font::has_bold_face() const {
    return impl().bold != nullptr;
}

std::span<const uint8_t> Font::ttf_bytes(bool bold) const {
    if (is_builtin()) return {};
    return impl().face(bold)->data;
}

float Font::text_width(std::string_view utf8, float size, bool bold) const {
    if (!usable_size(size)) return 0;
    const Impl& im = impl();
    float width = 0;
    char32_t prev = 0;
    // The same sums, in the same order, as the raster back end's pen (kerning, then advance).
    for (char32_t cp : decode_utf8(utf8)) {
        if (prev) width += im.kern(prev, cp, size, bold);
        width += im.advance(cp, size, bold);
        prev = cp;
    }
    return width;
}

float Font::ascent(float size) const {
    const Face* f = impl().regular.get();
    return f ? float(f->ascent) * f->scale(size) : 0.8f * size;
}

float Font::descent(float size) const {
    const Face* f = impl().regular.get();
    return f ? float(f->descent) * f->scale(size) : 0.2f * size;
}

bool Font::has_glyph(char32_t code_point, bool bold) const {
    if (is_builtin()) return builtin_glyph(code_point) != nullptr;
    return impl().glyph_index(code_point, bold) != 0;
}

std::string Font::elide(std::string_view utf8, float size, float max_width, bool bold) const {
    if (text_width(utf8, size, bold) <= max_width) return std::string(utf8);
    const Impl& im = impl();
    const std::u32string cps = decode_utf8(utf8);
    const float ellipsis = im.advance(kEllipsis, size, bold);
    // The longest prefix whose width plus the ellipsis (kerned against it) fits.
    size_t keep = 0;
    float width = 0;
    for (size_t n = 0; n < cps.size(); ++n) {
        const float with =
            n == 0 ? ellipsis : width + im.kern(cps[n - 1], kEllipsis, size, bold) + ellipsis;
        if (with <= max_width) keep = n;
        if (n > 0) width += im.kern(cps[n - 1], cps[n], size, bold);
        width += im.advance(cps[n], size, bold);
        if (width > max_width) break;
    }
    // "token …" reads worse than "token…".
    while (keep > 0 && (cps[keep - 1] == U' ' || cps[keep - 1] == U'\t')) --keep;
    for (;; --keep) {
        std::u32string shown = cps.substr(0, keep);
        shown += kEllipsis;
        std::string result = encode_utf8(shown);
        if (text_width(result, size, bold) <= max_width) return result;
        if (keep == 0) return "";  // not even the ellipsis fits
    }
}

Font::Glyph Font::glyph(char32_t code_point, float size, float shift_x, bool bold) const {
    if (!usable_size(size)) return {};
    const Impl& im = impl();
    const float shift = std::isfinite(shift_x) ? std::clamp(shift_x, 0.0f, 1.0f) : 0.0f;
    const auto q = uint32_t(std::lround(shift * kSubpixelSteps));
    const GlyphKey key{code_point, std::bit_cast<uint32_t>(size), q, bold};
    {
        std::lock_guard lock(im.mutex);
        if (auto it = im.glyphs.find(key); it != im.glyphs.end()) return it->second;
    }
    // Rendered outside the lock; two threads racing for one glyph render identical bitmaps.
    Glyph g = im.render(code_point, size, float(q) / kSubpixelSteps, bold);
    std::lock_guard lock(im.mutex);
    if (im.glyphs.size() >= kMaxCachedGlyphs) im.glyphs.clear();
    im.glyphs.emplace(key, g);
    return g;
}

float Font::kerning(char32_t left, char32_t right, float size, bool bold) const {
    return usable_size(size) ? impl().kern(left, right, size, bold) : 0.0f;
}

int Font::glyph_index(char32_t code_point, bool bold) const {
    return impl().glyph_index(code_point, bold);
}

int Font::glyph_advance_1000(int glyph_index, bool bold) const {
    const Face* f = impl().face(bold);
    if (!f || glyph_index < 0 || glyph_index >= f->info.numGlyphs) return 0;
    int advance = 0, bearing = 0;
    stbtt_GetGlyphHMetrics(&f->info, glyph_index, &advance, &bearing);
    return int(std::lround(double(advance) * 1000.0 / f->units_per_em));
}

}  // namespace headmap::viz
