// The TrueType check that runs before stb_truetype sees a file (viz/font_check.h). Each part
// mirrors the stb_truetype v1.26 code that reads the same structure (function names below), so
// "every read lies inside the table" is checked for the reads stb actually makes, with its own
// arithmetic (uint16 wrap-arounds, the first matching table record, the last Unicode cmap
// record), rather than for what the OpenType specification says a font should hold: fonts that
// bend the spec in ways stb does not care about still load, with the same pictures.
#include "viz/font_check.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "viz/font_check_table.h"

namespace headmap::viz {
namespace font_check {
namespace {

// GPOS offsets can share tables: 65535 lookups of 65535 subtables each fit in a small file. stb
// walks every pair-adjustment subtable for each glyph pair it kerns, so more than this many is
// refused (real fonts have a few dozen), as is GPOS kerning that takes more than kMaxKerningWork
// lookups, subtables, coverage ranges and pair sets to check.
constexpr uint64_t kMaxPairSubtables = 1 << 14;
constexpr uint64_t kMaxKerningWork = 1 << 22;

uint32_t be16(std::span<const uint8_t> d, size_t at) {
    return uint32_t(d[at]) << 8 | d[at + 1];
}
uint32_t be32(std::span<const uint8_t> d, size_t at) {
    return be16(d, at) << 16 | be16(d, at + 2);
}

// stbtt__find_table: the FIRST record with the tag, and a zero offset counts as no table.
std::optional<FontTable> find_table(std::span<const uint8_t> d, const char* tag) {
    const size_t n = be16(d, 4);
    for (size_t t = 0; t < n; ++t) {
        const size_t rec = 12 + 16 * t;
        if (std::equal(tag, tag + 4, &d[rec])) {
            const FontTable table{be32(d, rec + 8), be32(d, rec + 12)};
            if (table.offset == 0) return std::nullopt;
            return table;
        }
    }
    return std::nullopt;
}

void check_directory(std::span<const uint8_t> d) {
    if (d.size() < 12) fail("too short to be a font (" + num(d.size()) + " bytes)");
    if (d.size() >= (size_t(1) << 30)) fail("larger than 1 GiB");
    const uint32_t version = be32(d, 0);
    if (version == 0x74746366) fail("a font collection (.ttc), not a single font");
    if (version == 0x4F54544F) fail("an OpenType font with CFF outlines, not TrueType outlines");
    if (version != 0x00010000 && version != 0x74727565) fail("not a TrueType font");
    const size_t n = be16(d, 4);
    if (12 + 16 * n > d.size())
        fail("its table directory of " + num(n) + " tables runs past the end of the file (" +
             num(d.size()) + " bytes)");
    for (size_t t = 0; t < n; ++t) {
        const size_t rec = 12 + 16 * t;
        const uint64_t offset = be32(d, rec + 8), length = be32(d, rec + 12);
        if (offset + length > d.size()) {
            std::string tag;
            for (size_t k = 0; k < 4; ++k) {
                const char c = char(d[rec + k]);
                tag += c >= 0x20 && c < 0x7f ? c : '?';
            }
            fail("table '" + tag + "' (offset " + num(offset) + ", " + num(length) +
                 " bytes) runs past the end of the file (" + num(d.size()) + " bytes)");
        }
    }
}

Table required(std::span<const uint8_t> d, const char* tag) {
    const std::optional<FontTable> t = find_table(d, tag);
    if (!t) {
        if (std::string_view(tag) == "glyf" && find_table(d, "CFF "))
            fail("it has CFF outlines, not TrueType outlines");
        fail(std::string("its required '") + tag + "' table is missing");
    }
    return Table(d, *t, tag);
}

// ---- cmap: stbtt_InitFont's choice of subtable, then stbtt_FindGlyphIndex ------------------

void check_cmap_format4(const Table& cmap, uint64_t at) {
    const uint32_t segcount = cmap.u16(at + 6, "the cmap format 4 header") >> 1;
    const uint32_t search_range = cmap.u16(at + 8, "the cmap format 4 header") >> 1;
    const uint32_t entry_selector = cmap.u16(at + 10, "the cmap format 4 header");
    const uint32_t range_shift = cmap.u16(at + 12, "the cmap format 4 header") >> 1;
    // stb loops entrySelector times; past 16 halvings its searchRange is 0 and stays there.
    if (entry_selector > 16)
        fail("the cmap format 4 entrySelector " + num(entry_selector) + " is over 16");
    // stb's binary search trusts searchRange, entrySelector and rangeShift, which need not agree
    // with segCount. Each of its steps only moves forward, so the search that takes every step
    // reads furthest: its reads bound those of every code point.
    const uint64_t end_count = at + 14;
    uint64_t search = end_count;
    const char* searching = "the cmap format 4 binary search";
    cmap.need(search + range_shift * 2, 2, searching);
    search += range_shift * 2;
    search -= 2;  // never below the subtable: end_count is 14 bytes in
    uint32_t range = search_range;
    for (uint32_t e = entry_selector; e > 0; --e) {
        range >>= 1;
        cmap.need(search + range * 2, 2, searching);
        search += range * 2;
    }
    search += 2;
    // Segments the search can land on (stb keeps the index in 16 bits): their end and start
    // codes, deltas and range offsets, the last array furthest.
    const uint64_t steps = (search - end_count) >> 1;
    const uint64_t segments = steps > 0xFFFF ? 0x10000 : steps + 1;
    const uint64_t starts = end_count + 2 + 2 * uint64_t(segcount);
    const uint64_t offsets = end_count + 2 + 6 * uint64_t(segcount);
    cmap.need(offsets, 2 * segments,
              ("the cmap format 4 arrays of " + num(segments) + " segments (segCount " +
               num(segcount) + ")")
                  .c_str());
    for (uint64_t item = 0; item < segments; ++item) {
        const uint32_t start = cmap.raw16(starts + 2 * item),
                       last = cmap.raw16(end_count + 2 * item);
        const uint32_t range_offset = cmap.raw16(offsets + 2 * item);
        // Code points start..last read glyph ids from idRangeOffset's own address on.
        if (range_offset == 0 || start > last) continue;
        const uint64_t ids = offsets + 2 * item + range_offset, count = last - start + 1;
        if (!cmap.has(ids, 2 * count))
            cmap.past_end(ids, 2 * count,
                          "the glyph ids of cmap format 4 segment " + num(item) + " (" +
                              code_point(start) + ".." + code_point(last) + ")");
    }
}

void check_cmap(const Table& cmap) {
    const uint32_t n = cmap.u16(2, "the cmap header");
    cmap.need(4, uint64_t(8) * n, "the cmap encoding records");
    std::optional<uint64_t> chosen;  // stb keeps the LAST record it understands
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t rec = 4 + 8 * uint64_t(i);
        const uint32_t platform = cmap.raw16(rec), encoding = cmap.raw16(rec + 2);
        if ((platform == 3 && (encoding == 1 || encoding == 10)) || platform == 0)
            chosen = cmap.u32(rec + 4, "the cmap encoding records");
    }
    if (!chosen) fail("its cmap has no Unicode subtable");
    const uint64_t at = *chosen;
    const uint32_t format = cmap.u16(at, "the cmap subtable's format");
    switch (format) {
        case 0: {
            // stb indexes glyphIdArray by code point below the subtable's own length - 6.
            const uint32_t length = cmap.u16(at + 2, "the cmap format 0 header");
            if (length > 6) cmap.need(at, length, "the cmap format 0 subtable");
            break;
        }
        case 6: {
            const uint32_t count = cmap.u16(at + 8, "the cmap format 6 header");
            cmap.need(at + 10, 2 * uint64_t(count), "the cmap format 6 glyph array");
            break;
        }
        case 4:
            check_cmap_format4(cmap, at);
            break;
        case 12:
        case 13: {
            const uint64_t groups = cmap.u32(at + 12, "the cmap format 12/13 header");
            cmap.need(at + 16, 12 * groups, ("the cmap format " + num(format) + " groups").c_str());
            break;
        }
        default:
            // stb asserts on these (format 2, 8, 10, 14) and finds no glyph in release builds.
            fail("its Unicode cmap subtable has format " + num(format) +
                 ", which stb_truetype cannot read (formats 0, 4, 6, 12 and 13)");
    }
}

// ---- kerning: stbtt_GetGlyphKernAdvance (GPOS when the font has one, else 'kern') -----------

void check_kern(const Table& kern) {
    if (kern.u16(2, "the kern header") < 1) return;
    if (kern.u16(8, "the kern subtable header") != 1) return;
    const uint64_t pairs = kern.u16(10, "the kern subtable header");
    if (pairs > 0) kern.need(18, 6 * pairs, "the kern pair array");
}

// stbtt__GetCoverageIndex: the coverage indices it can return, as [first, last] ranges.
std::vector<std::pair<uint64_t, uint64_t>> coverage_indices(const Table& gpos, uint64_t at) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    const uint32_t format = gpos.u16(at, "a GPOS coverage table");
    if (format == 1) {
        const uint64_t count = gpos.u16(at + 2, "a GPOS coverage table");
        gpos.need(at + 4, 2 * count, "a GPOS coverage glyph array");
        if (count > 0) out.emplace_back(0, count - 1);
    } else if (format == 2) {
        const uint64_t count = gpos.u16(at + 2, "a GPOS coverage table");
        gpos.need(at + 4, 6 * count, "a GPOS coverage range array");
        for (uint64_t r = 0; r < count; ++r) {
            const uint64_t rec = at + 4 + 6 * r;
            const uint32_t start = gpos.raw16(rec), end = gpos.raw16(rec + 2);
            const uint32_t first = gpos.raw16(rec + 4);
            if (start <= end) out.emplace_back(first, first + (end - start));
        }
    }
    return out;  // other formats: stb skips the subtable
}

// stbtt__GetGlyphClass.
void check_class_def(const Table& gpos, uint64_t at) {
    const uint32_t format = gpos.u16(at, "a GPOS class definition");
    if (format == 1) {
        const uint64_t count = gpos.u16(at + 4, "a GPOS class definition");
        gpos.need(at + 6, 2 * count, "a GPOS class value array");
    } else if (format == 2) {
        const uint64_t count = gpos.u16(at + 2, "a GPOS class definition");
        gpos.need(at + 4, 6 * count, "a GPOS class range array");
    }
}

// stbtt__GetGlyphGPOSInfoAdvance: every pair-adjustment subtable of every lookup, as any glyph
// pair may reach any of them.
void check_gpos(const Table& gpos) {
    if (gpos.u16(0, "the GPOS header") != 1 || gpos.u16(2, "the GPOS header") != 0) return;
    const uint64_t list = gpos.u16(8, "the GPOS header");
    const uint64_t lookups = gpos.u16(list, "the GPOS lookup list");
    gpos.need(list + 2, 2 * lookups, "the GPOS lookup list");
    uint64_t work = 0, pair_subtables = 0;
    const auto spend = [&](uint64_t n) {
        work += n;
        if (work > kMaxKerningWork)
            fail("its GPOS kerning takes over " + num(kMaxKerningWork) + " steps to check");
    };
    for (uint64_t l = 0; l < lookups; ++l) {
        spend(1);
        const uint64_t lookup = list + gpos.raw16(list + 2 + 2 * l);
        gpos.need(lookup, 6, "a GPOS lookup table");
        if (gpos.raw16(lookup) != 2) continue;  // only pair adjustment
        const uint64_t subtables = gpos.raw16(lookup + 4);
        gpos.need(lookup + 6, 2 * subtables, "a GPOS lookup's subtable offsets");
        pair_subtables += subtables;
        if (pair_subtables > kMaxPairSubtables)
            fail("its GPOS has over " + num(kMaxPairSubtables) + " pair adjustment subtables");
        for (uint64_t s = 0; s < subtables; ++s) {
            const uint64_t table = lookup + gpos.raw16(lookup + 6 + 2 * s);
            const uint32_t format = gpos.u16(table, "a GPOS pair adjustment subtable");
            const uint64_t coverage = table + gpos.u16(table + 2, "a GPOS pair subtable");
            const auto indices = coverage_indices(gpos, coverage);
            spend(1 + indices.size());
            if (indices.empty() || (format != 1 && format != 2)) continue;
            const uint32_t value1 = gpos.u16(table + 4, "a GPOS pair subtable");
            const uint32_t value2 = gpos.u16(table + 6, "a GPOS pair subtable");
            if (value1 != 4 || value2 != 0) continue;  // stb kerns with XAdvance-only records
            if (format == 1) {
                const uint64_t sets = gpos.u16(table + 8, "a GPOS pair subtable");
                // stb reads the pair set's offset and count before comparing with pairSetCount.
                for (const auto& [first, last] : indices) {
                    spend(last - first + 1);
                    gpos.need(table + 10 + 2 * first, 2 * (last - first + 1),
                              "a GPOS pair set offset array");
                    for (uint64_t ci = first; ci <= last; ++ci) {
                        const uint64_t set = table + gpos.raw16(table + 10 + 2 * ci);
                        const uint64_t count = gpos.u16(set, "a GPOS pair set");
                        if (ci < sets) gpos.need(set + 2, 4 * count, "a GPOS pair value array");
                    }
                }
            } else {
                check_class_def(gpos, table + gpos.u16(table + 8, "a GPOS pair subtable"));
                check_class_def(gpos, table + gpos.u16(table + 10, "a GPOS pair subtable"));
                const uint64_t class1 = gpos.u16(table + 12, "a GPOS pair subtable");
                const uint64_t class2 = gpos.u16(table + 14, "a GPOS pair subtable");
                gpos.need(table + 16, 2 * class1 * class2, "a GPOS class pair array");
            }
        }
    }
}

}  // namespace

CheckedFont check(std::span<const uint8_t> d) {
    check_directory(d);
    const Table head = required(d, "head"), hhea = required(d, "hhea");
    const Table maxp = required(d, "maxp"), hmtx = required(d, "hmtx");
    const Table cmap = required(d, "cmap"), loca = required(d, "loca");
    required(d, "glyf");
    CheckedFont out;
    out.units_per_em = int(head.u16(18, "the head table's unitsPerEm"));
    if (out.units_per_em < 16 || out.units_per_em > 16384)
        fail("its units per em, " + num(uint64_t(out.units_per_em)) + ", is outside 16..16384");
    const uint32_t loca_format = head.u16(50, "the head table's indexToLocFormat");
    if (loca_format > 1) fail("its loca format " + num(loca_format) + " is neither 0 nor 1");
    const uint32_t num_glyphs = maxp.u16(4, "the maxp table's numGlyphs");
    if (num_glyphs == 0) fail("it has no glyphs");
    out.num_glyphs = int(num_glyphs);
    // stbtt_GetGlyphHMetrics: glyphs past numberOfHMetrics share the last advance and have a
    // left side bearing each.
    const uint64_t metrics = hhea.u16(34, "the hhea table's numberOfHMetrics");
    if (metrics == 0) fail("its hhea numberOfHMetrics is 0");
    const uint64_t long_metrics = std::min<uint64_t>(metrics, num_glyphs);
    hmtx.need(0, 4 * long_metrics, "the horizontal metrics");
    if (num_glyphs > metrics)
        hmtx.need(4 * metrics, 2 * (num_glyphs - metrics), "the left side bearings");
    check_cmap(cmap);
    check_glyphs(d, loca, *find_table(d, "glyf"), num_glyphs, loca_format, out.units_per_em);
    if (const auto gpos = find_table(d, "GPOS"))
        check_gpos(Table(d, *gpos, "GPOS"));
    else if (const auto kern = find_table(d, "kern"))
        check_kern(Table(d, *kern, "kern"));
    out.name = find_table(d, "name");
    return out;
}

}  // namespace font_check

std::string check_truetype(std::span<const uint8_t> font, CheckedFont& out) {
    try {
        out = font_check::check(font);
        return "";
    } catch (const font_check::Problem& p) {
        return p.why;
    }
}

}  // namespace headmap::viz
