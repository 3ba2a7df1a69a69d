// Fonts for measuring and drawing text: a TrueType font parsed with stb_truetype from the bytes
// the caller read (tools/viz_io.h finds the system's DejaVu or reads --font; viz opens no files),
// or the small built-in bitmap font, so headmap never fails for want of a font. Views measure
// with the same Font the raster back end draws with; SVG and PDF keep text as text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headmap::viz {

class Font {
  public:
    // A TrueType file's bytes and the name messages give it (its path); the name's stem is the
    // family name when the font has none.
    struct File {
        std::string bytes;
        std::string name;
    };
    // The regular face from `regular` (headmap::Error naming it and the broken structure if it
    // is not a TrueType font stb_truetype can read safely: viz/font_check.h), and the bold face
    // from `bold` when given and usable (else bold text uses the regular face: a broken bold
    // sibling is not worth failing for).
    static Font from_files(File regular, std::optional<File> bold = std::nullopt);
    static Font builtin();  // the bitmap fallback only

    bool is_builtin() const;
    std::string name() const;  // e.g. "DejaVu Sans" or "builtin"
    // The name given with the face's bytes (empty for the builtin font); bold without a bold
    // face names the regular one.
    std::string file_name(bool bold = false) const;
    bool has_bold_face() const;
    // The face's TrueType bytes (empty for the builtin font), which the PDF back end embeds.
    std::span<const uint8_t> ttf_bytes(bool bold = false) const;

    // Horizontal advance of `utf8` at `size` px, kerning included.
    float text_width(std::string_view utf8, float size, bool bold = false) const;
    // Ascent and descent (positive, px) at `size`.
    float ascent(float size) const;
    float descent(float size) const;
    // Whether the face has a glyph for the code point (else it is drawn as a box).
    bool has_glyph(char32_t code_point, bool bold = false) const;

    // `utf8` shortened with a trailing "…" so it fits in `max_width` px (unchanged if it fits).
    std::string elide(std::string_view utf8, float size, float max_width, bool bold = false) const;

    // Coverage bitmap (0..255) of one glyph at `size` px with the pen at fractional x offset
    // `shift_x` (subpixel positioning). Used by the raster back end.
    struct Glyph {
        int width = 0, height = 0;
        int offset_x = 0, offset_y = 0;  // from the pen position on the baseline to the top left
        float advance = 0;               // px
        std::vector<uint8_t> coverage;   // width * height
    };
    Glyph glyph(char32_t code_point, float size, float shift_x, bool bold = false) const;
    float kerning(char32_t left, char32_t right, float size, bool bold = false) const;

    // stb_truetype glyph index (0: missing) for the PDF back end's CID encoding.
    int glyph_index(char32_t code_point, bool bold = false) const;
    // Advance of a glyph index in font units per 1000 em (PDF widths).
    int glyph_advance_1000(int glyph_index, bool bold = false) const;

    struct Impl;

  private:
    const Impl& impl() const;  // a default-constructed Font behaves as the builtin one
    std::shared_ptr<const Impl> impl_;
};

// UTF-8 to code points. Invalid input (stray or truncated sequences, overlong forms, encoded
// surrogates, values past U+10FFFF) becomes U+FFFD, one per maximal invalid subpart as Unicode
// recommends, so any byte string can be laid out.
std::u32string decode_utf8(std::string_view utf8);

}  // namespace headmap::viz
