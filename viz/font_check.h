// A TrueType file checked before stb_truetype sees it. stb_truetype (v1.26, Debian's libstb-dev)
// trusts every offset and count in the file: a hostile font makes it read far outside the bytes,
// recurse forever through composite glyphs or assert. check_truetype walks every structure that
// the calls Font makes can reach (stbtt_InitFont, FindGlyphIndex, GetGlyphHMetrics,
// GetGlyphKernAdvance, GetGlyphBox, GetGlyphShape and the rasteriser fed by it) with the same
// arithmetic stb uses, and names the first one that would read out of bounds or blow up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace headmap::viz {

struct FontTable {
    size_t offset = 0, length = 0;
};

// What the check learnt that Font needs besides stb_truetype's own reads.
struct CheckedFont {
    int num_glyphs = 0;             // maxp: stb's glyph indices are < this
    int units_per_em = 0;           // head, 16..16384
    std::optional<FontTable> name;  // the naming table, when the file has one inside it
};

// Why stb_truetype cannot safely read `font` (one clause naming the table, glyph or code point
// and what is wrong), or "" when every structure it reads lies inside the file and its glyph
// outlines are of bounded size. Fills `out` when the font is fine.
std::string check_truetype(std::span<const uint8_t> font, CheckedFont& out);

}  // namespace headmap::viz
