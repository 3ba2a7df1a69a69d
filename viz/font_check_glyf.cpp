// Glyph outlines for the TrueType check (viz/font_check.h): 'loca' and 'glyf' as stb_truetype's
// stbtt__GetGlyfOffset, stbtt_GetGlyphBox and stbtt__GetGlyphShapeTT read them, every glyph,
// composites expanded with stb's recursion and arithmetic.
#include <algorithm>
#include <cmath>
#include <vector>

#include "viz/font_check_table.h"

namespace headmap::viz::font_check {
namespace {

// Limits that no real font comes near, so that a hostile one cannot make a glyph cost seconds or
// gigabytes: composite nesting (real fonts use 1-3 levels), stb_vertex count of one glyph
// outline after composites are expanded, vertices stb allocates and copies while expanding them,
// and how far outlines may reach from the origin in ems (the raster back end allocates the
// bitmap from the glyph's box, so at a label size of 12 px a 32 em glyph is still 768 px).
constexpr int kMaxComponentDepth = 16;
constexpr uint64_t kMaxGlyphVertices = 1 << 16;
constexpr uint64_t kMaxShapeWork = 1 << 22;
constexpr int kMaxEms = 32;

struct Component {
    uint32_t glyph = 0;
    double matrix[6] = {1, 0, 0, 1, 0, 0};  // stb's mtx
};

struct Glyph {
    enum class Kind : uint8_t { Empty, Simple, Composite } kind = Kind::Empty;
    uint64_t vertices = 0;        // stb_vertices of the outline, at most (composites: resolved)
    uint64_t work = 0;            // vertices allocated and copied building it
    double reach = 0;             // largest |coordinate| of any vertex
    size_t first = 0, count = 0;  // its components
    uint8_t state = 0;            // composites: 0 unresolved, 1 resolving, 2 resolved
};

// Messages name glyphs by index; built only on failure, as every glyph of a font is read.
std::string glyph_name(uint32_t g) {
    return "glyph " + num(g);
}

[[noreturn]] void past_outline(const Table& glyph, uint32_t g, const std::string& part) {
    fail(glyph_name(g) + "'s outline (" + num(glyph.size()) + " bytes) ends inside its " + part);
}

// Per-glyph arrays, kept between glyphs.
struct Scratch {
    std::vector<uint32_t> end_points;
    std::vector<uint8_t> flags;
};

// A simple glyph, read as stb reads it: end points, instructions skipped, flags (with repeats),
// then x and then y coordinates, all inside the glyph's loca extent.
void read_simple(const Table& glyph, int contours, Glyph& out, uint32_t g, Scratch& scratch) {
    const auto at = [&](uint64_t where, const char* what) {
        if (!glyph.has(where, 1)) past_outline(glyph, g, what);
        return glyph.raw8(where);
    };
    const uint64_t ends = 10;
    if (!glyph.has(ends, 2 * uint64_t(contours) + 2)) past_outline(glyph, g, "contour end points");
    std::vector<uint32_t>& end_points = scratch.end_points;
    end_points.resize(static_cast<size_t>(contours));
    for (int c = 0; c < contours; ++c) end_points[size_t(c)] = glyph.raw16(ends + 2 * c);
    const uint32_t n = 1 + end_points.back();
    uint64_t p = ends + 2 * uint64_t(contours);
    p += 2 + glyph.raw16(p);  // past the instructions
    std::vector<uint8_t>& flags = scratch.flags;
    flags.resize(n);
    for (uint32_t i = 0, repeat = 0; i < n; ++i) {
        if (repeat == 0) {
            flags[i] = uint8_t(at(p++, "point flags"));
            if (flags[i] & 8) repeat = at(p++, "point flags");
        } else {
            flags[i] = flags[i - 1];
            --repeat;
        }
    }
    int reach = 0;
    for (const auto& [short_bit, same_bit] : {std::pair{2, 16}, std::pair{4, 32}}) {
        int32_t v = 0;
        for (uint32_t i = 0; i < n; ++i) {
            if (flags[i] & short_bit) {
                const int32_t d = int32_t(at(p++, "point coordinates"));
                v += (flags[i] & same_bit) ? d : -d;
            } else if (!(flags[i] & same_bit)) {
                at(p + 1, "point coordinates");
                v += int16_t(glyph.raw16(p));
                p += 2;
            }
            reach = std::max(reach, std::abs(int(int16_t(v))));  // stb keeps int16 coordinates
        }
    }
    // stb's vertex loop starts a contour where i reaches the previous end point + 1. A contour
    // that starts off the curve looks at the next point (and skips it when it is on the curve),
    // which for the last point is one past stb's vertex array. Whatever the end points, stb
    // writes at most capacity = n + 2 * contours vertices, which bounds the outline here.
    for (uint64_t start = 0, j = 0; start < n;) {
        uint64_t i = start;
        if (!(flags[i] & 1)) {
            if (i + 1 >= n)
                fail(glyph_name(g) + "'s last contour starts off the curve with no point after it");
            if (flags[i + 1] & 1) ++i;
        }
        if (j >= uint64_t(contours))
            fail(glyph_name(g) + "'s contours do not match its end points");
        const uint64_t next = 1 + uint64_t(end_points[j++]);
        if (next <= i) break;  // stb's loop is past it: no further contour starts
        start = next;
    }
    out.kind = Glyph::Kind::Simple;
    out.vertices = out.work = n + 2 * uint64_t(contours);
    out.reach = double(reach);
}

void read_composite(const Table& glyph, uint32_t num_glyphs, Glyph& out,
                    std::vector<Component>& components, uint32_t g) {
    out.kind = Glyph::Kind::Composite;
    out.first = components.size();
    uint64_t p = 10;
    for (bool more = true; more;) {
        const auto need = [&](uint64_t n) {
            if (!glyph.has(p, n))
                past_outline(glyph, g, "component " + num(components.size() - out.first));
        };
        need(4);
        const uint32_t flags = glyph.raw16(p), index = glyph.raw16(p + 2);
        p += 4;
        Component c;
        c.glyph = index;
        if (index >= num_glyphs)
            fail(glyph_name(g) + " refers to glyph " + num(index) + " of " + num(num_glyphs));
        // Components placed by matching points: stb asserts (and misreads what follows).
        if (!(flags & 2)) fail(glyph_name(g) + " places a component by point numbers");
        if (flags & 1) {
            need(4);
            c.matrix[4] = int16_t(glyph.raw16(p)), c.matrix[5] = int16_t(glyph.raw16(p + 2));
            p += 4;
        } else {
            need(2);
            c.matrix[4] = int8_t(glyph.raw16(p) >> 8), c.matrix[5] = int8_t(glyph.raw16(p));
            p += 2;
        }
        const auto f2dot14 = [&](uint64_t at) { return int16_t(glyph.raw16(at)) / 16384.0; };
        if (flags & (1 << 3)) {
            need(2);
            c.matrix[0] = c.matrix[3] = f2dot14(p);
            c.matrix[1] = c.matrix[2] = 0;
            p += 2;
        } else if (flags & (1 << 6)) {
            need(4);
            c.matrix[0] = f2dot14(p), c.matrix[3] = f2dot14(p + 2);
            c.matrix[1] = c.matrix[2] = 0;
            p += 4;
        } else if (flags & (1 << 7)) {
            need(8);
            for (int k = 0; k < 4; ++k) c.matrix[k] = f2dot14(p + 2 * uint64_t(k));
            p += 8;
        }
        components.push_back(c);
        more = flags & (1 << 5);
    }
    out.count = components.size() - out.first;
}

// Expands composites as stb does (recursively, appending each component's vertices), bounding
// the nesting, the total vertices and work, and the coordinates: stb casts the transformed
// floats to int16, which is undefined past its range.
void resolve(std::vector<Glyph>& glyphs, const std::vector<Component>& components, uint32_t g,
             int depth) {
    Glyph& glyph = glyphs[g];
    if (glyph.kind != Glyph::Kind::Composite || glyph.state == 2) return;
    const auto name = [g] { return glyph_name(g); };
    if (glyph.state == 1) fail(name() + "'s components refer back to itself");
    if (depth > kMaxComponentDepth)
        fail(name() + "'s components nest over " + num(kMaxComponentDepth) + " deep");
    glyph.state = 1;
    uint64_t vertices = 0, work = 0;
    double reach = 0;
    for (size_t k = glyph.first; k < glyph.first + glyph.count; ++k) {
        const Component& c = components[k];
        resolve(glyphs, components, c.glyph, depth + 1);
        const Glyph& part = glyphs[c.glyph];
        work += 1 + part.work;
        if (part.vertices > 0) {
            vertices += part.vertices;
            work += vertices;  // stb reallocates and copies the outline for each component
            const double* m = c.matrix;
            const double sx = std::sqrt(m[0] * m[0] + m[1] * m[1]);
            const double sy = std::sqrt(m[2] * m[2] + m[3] * m[3]);
            const double x = sx * ((std::abs(m[0]) + std::abs(m[2])) * part.reach + std::abs(m[4]));
            const double y = sy * ((std::abs(m[1]) + std::abs(m[3])) * part.reach + std::abs(m[5]));
            reach = std::max({reach, x, y});
            if (reach > 32766)
                fail(name() + "'s component transform moves points past 16-bit coordinates");
        }
        if (vertices > kMaxGlyphVertices)
            fail(name() + "'s outline expands to over " + num(kMaxGlyphVertices) + " points");
        if (work > kMaxShapeWork)
            fail(name() + "'s components take over " + num(kMaxShapeWork) +
                 " vertex copies to expand");
    }
    glyph.vertices = vertices, glyph.work = work, glyph.reach = reach;
    glyph.state = 2;
}

}  // namespace

void check_glyphs(std::span<const uint8_t> d, const Table& loca, FontTable glyf_table,
                  uint32_t num_glyphs, uint32_t loca_format, int units_per_em) {
    const Table glyf(d, glyf_table, "glyf");
    const uint64_t entry = loca_format == 0 ? 2 : 4;
    loca.need(0, entry * (uint64_t(num_glyphs) + 1), "the loca offsets for every glyph");
    const auto offset = [&](uint64_t g) -> uint64_t {
        return loca_format == 0 ? 2 * uint64_t(loca.raw16(2 * g))
                                : uint64_t(loca.raw16(4 * g)) << 16 | loca.raw16(4 * g + 2);
    };
    const double max_reach = double(kMaxEms) * units_per_em;
    std::vector<Glyph> glyphs(num_glyphs);
    std::vector<Component> components;
    Scratch scratch;
    for (uint32_t g = 0; g < num_glyphs; ++g) {
        const uint64_t begin = offset(g), end = offset(g + 1);
        if (begin == end) continue;  // no outline: stb draws nothing
        const auto name = [g] { return glyph_name(g); };
        if (end < begin)
            fail(name() + "'s loca offsets go backwards (" + num(begin) + " to " + num(end) + ")");
        if (end > glyf.size())
            fail(name() + "'s outline runs past the glyf table (offset " + num(end) + ", table " +
                 num(glyf.size()) + " bytes)");
        if (end - begin < 10)
            fail(name() + "'s outline is " + num(end - begin) + " bytes, under its 10-byte header");
        const Table glyph(d, {glyf_table.offset + begin, end - begin}, "glyf");
        int box = 0;
        for (uint64_t k = 2; k < 10; k += 2) box = std::max(box, std::abs(glyph.s16(k, "box")));
        if (box > max_reach)
            fail(name() + "'s box reaches " + num(uint64_t(box)) + " units from the origin, over " +
                 num(kMaxEms) + " em at " + num(uint64_t(units_per_em)) + " units per em");
        const int contours = int16_t(glyph.raw16(0));
        if (contours > 0) read_simple(glyph, contours, glyphs[g], g, scratch);
        if (contours < 0) read_composite(glyph, num_glyphs, glyphs[g], components, g);
    }
    for (uint32_t g = 0; g < num_glyphs; ++g) {
        resolve(glyphs, components, g, 0);
        if (glyphs[g].reach > max_reach)
            fail(glyph_name(g) + "'s outline reaches " + num(uint64_t(glyphs[g].reach)) +
                 " units from the origin, over " + num(kMaxEms) + " em at " +
                 num(uint64_t(units_per_em)) + " units per em");
    }
}

}  // namespace headmap::viz::font_check
