// PDF back end: the Scene as a one-page PDF 1.4, 1 scene px = 1 pt, y flipped (PDF's origin is
// bottom left). Streams are uncompressed: there is no zlib in the build, and the bulk of a file
// is the embedded font, which compresses poorly anyway.
//
// Text stays text. With a TrueType font the whole TTF is embedded (no subsetting: simpler and
// always correct, ~0.7 MB per face) as a Type0 font with a CIDFontType2 descendant, Identity-H
// encoding and CIDToGIDMap /Identity, so the content stream carries stb_truetype's glyph ids
// directly; a ToUnicode CMap maps them back for search and copy. With the builtin bitmap font
// the standard Helvetica is used instead (WinAnsi; other characters become '?').
//
// Gradient discs are a radial shading (ShadingType 3, one Type 2 function, no extension beyond
// the radius, which bounds it to the disc). Alpha that varies across the disc is a luminosity
// soft mask drawing the same geometry in grey, which is exact; concentric rings would band.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "headmap/error.hpp"
#include "viz/render.h"
#include "viz/vector_common.h"

namespace headmap::viz {
namespace {

using detail::append_number;

// Helvetica and Helvetica-Bold advances (1/1000 em) for WinAnsi codes 32..255, from Adobe's
// core-font AFMs; 0 marks codes win_ansi() never produces. Needed to anchor text exactly, since
// a reader draws Helvetica with these widths, not the builtin font's. Rows of 16 codes.
// clang-format off
constexpr std::array<uint16_t, 224> kHelvetica = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500};
constexpr std::array<uint16_t, 224> kHelveticaBold = {
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556};
// clang-format on

// WinAnsiEncoding byte for a code point: ASCII and Latin-1 map to themselves, 0x80..0x9F hold
// the cp1252 extras (the ellipsis Font::elide appends among them); anything else is '?'.
unsigned char win_ansi(char32_t c) {
    if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0xFF)) return static_cast<unsigned char>(c);
    static constexpr std::array<char16_t, 32> k80 = {
        0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
    for (size_t i = 0; i < k80.size(); ++i)
        if (k80[i] != 0 && k80[i] == c) return static_cast<unsigned char>(0x80 + i);
    return '?';
}

// The TrueType tables the FontDescriptor needs, from the bytes Font parsed (the file's bytes as
// the caller read them, so the bytes embedded are exactly the file's).
struct TrueType {
    std::string data;
    std::string ps_name;
    int units_per_em = 1000;
    std::array<int, 4> bbox{0, -200, 1000, 900};
    int cap_height = 0;  // 0: unknown
    int weight = 400;
    double italic_angle = 0;
    bool fixed_pitch = false;
};

class Bytes {
  public:
    explicit Bytes(std::string_view d) : d_(d) {}
    // Out-of-range reads give 0, so a truncated table yields defaults instead of a crash.
    uint32_t u8(size_t o) const { return o < d_.size() ? static_cast<unsigned char>(d_[o]) : 0; }
    uint32_t u16(size_t o) const { return u8(o) << 8 | u8(o + 1); }
    int s16(size_t o) const { return static_cast<int16_t>(u16(o)); }
    uint32_t u32(size_t o) const { return u16(o) << 16 | u16(o + 2); }

  private:
    std::string_view d_;
};

std::string pdf_name_chars(std::string_view s) {
    std::string out;
    for (char c : s)
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '+' || c == '_' || c == '.')
            out += c;
    return out;
}

// nullopt when the bytes are not a plain TrueType font (a collection or a CFF OpenType font
// cannot go into FontFile2); the caller then falls back to Helvetica.
std::optional<TrueType> parse_truetype(std::span<const uint8_t> bytes) {
    TrueType t;
    t.data.assign(bytes.begin(), bytes.end());
    const Bytes b(t.data);
    const uint32_t version = b.u32(0);
    if (t.data.size() < 12 || (version != 0x00010000 && version != 0x74727565)) return std::nullopt;
    auto table = [&](const char* tag) -> std::optional<size_t> {
        const uint32_t want = Bytes(tag).u32(0);
        for (size_t i = 0, n = b.u16(4); i < n; ++i) {
            const size_t rec = 12 + 16 * i;
            const size_t offset = b.u32(rec + 8), length = b.u32(rec + 12);
            if (b.u32(rec) == want && offset + length <= t.data.size()) return offset;
        }
        return std::nullopt;
    };
    const auto head = table("head");
    if (!head || b.u16(*head + 18) == 0) return std::nullopt;
    t.units_per_em = static_cast<int>(b.u16(*head + 18));
    for (int i = 0; i < 4; ++i) t.bbox[i] = b.s16(*head + 36 + 2 * i);
    if (const auto os2 = table("OS/2")) {
        t.weight = static_cast<int>(b.u16(*os2 + 4));
        if (b.u16(*os2) >= 2) t.cap_height = b.s16(*os2 + 88);
    }
    if (const auto post = table("post")) {
        t.italic_angle = static_cast<int32_t>(b.u32(*post + 4)) / 65536.0;
        t.fixed_pitch = b.u32(*post + 12) != 0;
    }
    // PostScript name (name id 6): Windows records are UTF-16BE, Mac ones single-byte.
    if (const auto name = table("name")) {
        const size_t strings = *name + b.u16(*name + 4);
        for (size_t i = 0, n = b.u16(*name + 2); i < n && t.ps_name.empty(); ++i) {
            const size_t rec = *name + 6 + 12 * i;
            if (b.u16(rec + 6) != 6) continue;
            const uint32_t platform = b.u16(rec), length = b.u16(rec + 8);
            const size_t at = strings + b.u16(rec + 10);
            std::string raw;
            for (size_t k = 0; k < length; k += platform == 3 ? 2 : 1)
                raw += static_cast<char>(b.u8(at + k + (platform == 3 ? 1 : 0)));
            t.ps_name = pdf_name_chars(raw);
        }
    }
    return t;
}

// An embedded face: the glyphs the page uses (for /W and ToUnicode), first code point wins.
struct Face {
    std::string resource;           // "F1"
    const TrueType* ttf = nullptr;  // null: Helvetica
    bool bold = false;              // which Font face the glyph ids and widths come from
    std::map<int, char32_t> used;
};

// Objects are numbered up front (reserve) and written in any order; the xref lists them by
// number with their byte offsets.
class PdfFile {
  public:
    PdfFile() { out_ = "%PDF-1.4\n%\xC2\xB5\xC2\xB6\n"; }  // binary marker for transfer tools
    int reserve() {
        offsets_.push_back(0);
        return static_cast<int>(offsets_.size());
    }
    void object(int num, std::string_view body) {
        offsets_[num - 1] = out_.size();
        out_ += std::to_string(num) + " 0 obj\n";
        out_ += body;
        out_ += "\nendobj\n";
    }
    void stream(int num, std::string_view dict_entries, std::string_view data) {
        std::string body = "<< " + std::string(dict_entries) + " /Length " +
                           std::to_string(data.size()) + " >>\nstream\n";
        body += data;
        body += "\nendstream";
        object(num, body);
    }
    std::string finish(int root, int info) {
        const size_t xref = out_.size();
        out_ += "xref\n0 " + std::to_string(offsets_.size() + 1) + "\n0000000000 65535 f \n";
        char entry[32];
        for (size_t offset : offsets_) {
            std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
            out_ += entry;
        }
        out_ += "trailer\n<< /Size " + std::to_string(offsets_.size() + 1) + " /Root " +
                std::to_string(root) + " 0 R /Info " + std::to_string(info) +
                " 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
        return std::move(out_);
    }

  private:
    std::string out_;
    std::vector<size_t> offsets_;
};

std::string ref(int num) {
    return std::to_string(num) + " 0 R";
}

class PdfWriter {
  public:
    PdfWriter(const Scene& scene, const Font& font) : scene_(scene), font_(font) {
        width_ = scene.width > 0 ? scene.width : 1;
        height_ = scene.height > 0 ? scene.height : 1;
        if (font.is_builtin()) return;
        regular_ttf_ = parse_truetype(font.ttf_bytes());
        if (!regular_ttf_) return;
        if (font.has_bold_face()) bold_ttf_ = parse_truetype(font.ttf_bytes(true));
    }

    std::string run();

  private:
    struct State {
        Color fill{0, 0, 0, 255}, stroke{0, 0, 0, 255};
        float line_width = 1;
    };

    void num(double v, int decimals = 3) {
        append_number(c_, v, decimals);
        c_ += ' ';
    }
    void point(float x, float y) { num(x), num(height_ - y); }
    void op(const char* s) {
        c_ += s;
        c_ += '\n';
    }

    // Colour and alpha are set only when they change; q/Q save and restore the tracked state
    // along with PDF's own, so the tracking stays true inside clips.
    void save() {
        op("q");
        saved_.push_back(state_);
    }
    void restore() {
        op("Q");
        state_ = saved_.back();
        saved_.pop_back();
    }
    void rgb(Color c, const char* operator_name) {
        num(c.r / 255.0, 4), num(c.g / 255.0, 4), num(c.b / 255.0, 4);
        op(operator_name);
    }
    void alpha(bool stroking, uint8_t a) {
        auto [it, added] = alpha_gs_.try_emplace({stroking, a}, "");
        if (added) it->second = "A" + std::to_string(alpha_gs_.size());
        c_ += "/" + it->second + " gs\n";
    }
    void set_fill(Color c) {
        if (Color{c.r, c.g, c.b, 0} != Color{state_.fill.r, state_.fill.g, state_.fill.b, 0})
            rgb(c, "rg");
        if (c.a != state_.fill.a) alpha(false, c.a);
        state_.fill = c;
    }
    void set_stroke(Color c, float width) {
        if (Color{c.r, c.g, c.b, 0} != Color{state_.stroke.r, state_.stroke.g, state_.stroke.b, 0})
            rgb(c, "RG");
        if (c.a != state_.stroke.a) alpha(true, c.a);
        if (width != state_.line_width) {
            num(width);
            op("w");
        }
        state_.stroke = c;
        state_.line_width = width;
    }

    void rect_path(const detail::Box& b) {
        num(b.x), num(height_ - b.y - b.h), num(b.w), num(b.h);
        op("re");
    }
    // Four cubic arcs; k = 4/3 (sqrt 2 - 1) keeps the radius error under 0.03 %.
    void circle_path(float cx, float cy, float r) {
        const float k = 0.5522847498f * r;
        point(cx + r, cy), op("m");
        point(cx + r, cy + k), point(cx + k, cy + r), point(cx, cy + r), op("c");
        point(cx - k, cy + r), point(cx - r, cy + k), point(cx - r, cy), op("c");
        point(cx - r, cy - k), point(cx - k, cy - r), point(cx, cy - r), op("c");
        point(cx + k, cy - r), point(cx + r, cy - k), point(cx + r, cy), op("c");
        op("h");
    }

    void draw(const RectItem& r) {
        const detail::Box b = detail::normalized(r.x, r.y, r.w, r.h);
        if (r.fill.a > 0) {
            set_fill(r.fill);
            rect_path(b);
            op("f");
        }
        if (r.stroke_width > 0 && r.stroke.a > 0) {
            set_stroke(r.stroke, r.stroke_width);
            rect_path(b);
            op("S");
        }
    }

    void draw(const CircleItem& c) {
        if (c.r <= 0) return;
        if (c.fill.a > 0) {
            set_fill(c.fill);
            circle_path(c.cx, c.cy, c.r);
            op("f");
        }
        if (c.stroke_width > 0 && c.stroke.a > 0) {
            set_stroke(c.stroke, c.stroke_width);
            circle_path(c.cx, c.cy, c.r);
            op("S");
        }
    }

    // The shading is defined on the unit disc and placed with cm, so shadings and masks are
    // shared by every disc with the same colours.
    void draw(const GradientCircleItem& g) {
        if (g.r < 0.001f || (g.inner.a == 0 && g.outer.a == 0)) return;
        const std::array<uint8_t, 6> colours{g.inner.r, g.inner.g, g.inner.b,
                                             g.outer.r, g.outer.g, g.outer.b};
        auto [shading, added] = shadings_.try_emplace(colours, 0);
        if (added) shading->second = static_cast<int>(shadings_.size());
        save();
        num(g.r), num(0), num(0), num(g.r), point(g.cx, g.cy), op("cm");
        if (g.inner.a == g.outer.a) {
            set_fill(Color{state_.fill.r, state_.fill.g, state_.fill.b, g.inner.a});
        } else {
            set_fill(Color{state_.fill.r, state_.fill.g, state_.fill.b, 255});
            auto [mask, new_mask] = masks_.try_emplace({g.inner.a, g.outer.a}, 0);
            if (new_mask) mask->second = static_cast<int>(masks_.size());
            c_ += "/M" + std::to_string(mask->second) + " gs\n";
        }
        c_ += "/Sh" + std::to_string(shading->second) + " sh\n";
        restore();
    }

    void draw(const PolylineItem& p) {
        if (p.points.size() < 2 || p.width <= 0 || p.stroke.a == 0) return;
        set_stroke(p.stroke, p.width);
        point(p.points[0].x, p.points[0].y), op("m");
        for (size_t i = 1; i < p.points.size(); ++i) point(p.points[i].x, p.points[i].y), op("l");
        op(p.closed ? "s" : "S");
    }

    void draw(const TextItem& t);
    Face& face_for(bool bold);

    void draw(const ClipBegin& c) {
        save();
        rect_path(detail::normalized(c.x, c.y, c.w, c.h));
        op("W n");
        ++open_clips_;
    }
    void draw(const ClipEnd&) {
        if (open_clips_ == 0) return;  // unmatched: ignored, as the SVG back end does
        --open_clips_;
        restore();
    }

    void write_face(PdfFile& file, int type0, const Face& face);

    const Scene& scene_;
    const Font& font_;
    float width_ = 1, height_ = 1;
    std::optional<TrueType> regular_ttf_, bold_ttf_;
    std::string c_;  // the content stream
    State state_;
    std::vector<State> saved_;
    int open_clips_ = 0;
    std::vector<Face> faces_;
    std::map<std::pair<bool, uint8_t>, std::string> alpha_gs_;
    std::map<std::array<uint8_t, 6>, int> shadings_;
    std::map<std::pair<uint8_t, uint8_t>, int> masks_;
};

// Faces are created on first use, so a page without bold text embeds no bold font.
Face& PdfWriter::face_for(bool bold) {
    const bool own_bold = bold && (bold_ttf_ || !regular_ttf_);
    const TrueType* ttf = !regular_ttf_ ? nullptr : own_bold ? &*bold_ttf_ : &*regular_ttf_;
    for (Face& f : faces_)
        if (f.ttf == ttf && f.bold == own_bold) return f;
    Face f;
    f.resource = "F" + std::to_string(faces_.size() + 1);
    f.ttf = ttf;
    f.bold = own_bold;
    return faces_.emplace_back(std::move(f));
}

void PdfWriter::draw(const TextItem& t) {
    const std::u32string text = detail::decode_utf8(t.utf8);
    if (text.empty() || t.size <= 0 || t.color.a == 0) return;
    Face& face = face_for(t.bold);
    const bool fake_bold = t.bold && face.ttf && !face.bold;
    // The layout's own measure, so anchoring agrees with the PNG.
    const float measured = font_.text_width(t.utf8, t.size, t.bold);
    float width = measured, squeeze = 1;
    std::string shown;
    if (face.ttf) {
        shown = "[<";
        char hex[8];
        for (size_t i = 0; i < text.size(); ++i) {
            if (i > 0) {
                // Kerning as TJ offsets (1/1000 em, positive moves left).
                const float kern = font_.kerning(text[i - 1], text[i], t.size, face.bold);
                if (kern != 0) {
                    shown += "> ";
                    append_number(shown, -kern * 1000 / t.size);
                    shown += " <";
                }
            }
            const int gid = font_.glyph_index(text[i], face.bold);
            face.used.try_emplace(gid, text[i]);
            std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(gid) & 0xFFFF);
            shown += hex;
        }
        shown += "> ] TJ";
    } else {
        // Helvetica is not the font the layout measured: anchor by Helvetica's own width, and
        // squeeze horizontally where it is wider, so text never overruns its measured room.
        const auto& widths = t.bold ? kHelveticaBold : kHelvetica;
        float units = 0;
        shown = "<";
        char hex[4];
        for (char32_t c : text) {
            const unsigned char code = win_ansi(c);
            units += widths[code - 32];
            std::snprintf(hex, sizeof hex, "%02X", code);
            shown += hex;
        }
        shown += "> Tj";
        width = units * t.size / 1000;
        if (measured > 0 && width > measured) {
            squeeze = measured / width;
            width = measured;
        }
    }
    set_fill(t.color);
    if (fake_bold) set_stroke(t.color, t.size * 0.04f);
    // Text space: rotated by -rotation (y up here, y down on screen), origin at the start of
    // the baseline, which lies anchor_shift along and baseline_shift "below" the anchor point.
    const double phi = -t.rotation_deg * 3.14159265358979323846 / 180;
    const double cs = std::cos(phi), sn = std::sin(phi);
    const double dx = detail::anchor_shift(t.anchor, width);
    const double down = detail::baseline_shift(font_, t.baseline, t.size);
    const double x = t.x, y = height_ - t.y;
    op("BT");
    c_ += "/" + face.resource + " ";
    num(t.size), op("Tf");
    num(cs, 5), num(sn, 5), num(-sn, 5), num(cs, 5);
    num(x + cs * dx + sn * down), num(y + sn * dx - cs * down), op("Tm");
    // Tz and Tr persist past ET, so they are reset right after use.
    if (squeeze < 1) num(squeeze * 100), op("Tz");
    if (fake_bold) op("2 Tr");
    op(shown.c_str());
    if (squeeze < 1) op("100 Tz");
    if (fake_bold) op("0 Tr");
    op("ET");
}

// ToUnicode CMap: glyph id -> UTF-16BE, in blocks of at most 100 as the CMap syntax requires.
std::string to_unicode_cmap(const std::map<int, char32_t>& used) {
    std::string s =
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
    std::vector<std::pair<int, char32_t>> entries;
    for (const auto& [gid, cp] : used)
        if (gid != 0) entries.emplace_back(gid, cp);  // .notdef stands for many characters
    char buf[32];
    for (size_t i = 0; i < entries.size(); i += 100) {
        const size_t n = std::min<size_t>(100, entries.size() - i);
        s += std::to_string(n) + " beginbfchar\n";
        for (size_t k = i; k < i + n; ++k) {
            const auto [gid, cp] = entries[k];
            if (cp >= 0x10000) {
                const char32_t v = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "<%04X> <%04X%04X>\n", gid, 0xD800 + (v >> 10),
                              0xDC00 + (v & 0x3FF));
            } else {
                std::snprintf(buf, sizeof buf, "<%04X> <%04X>\n", gid, static_cast<unsigned>(cp));
            }
            s += buf;
        }
        s += "endbfchar\n";
    }
    s += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    return s;
}

void PdfWriter::write_face(PdfFile& file, int type0, const Face& face) {
    if (!face.ttf) {
        file.object(type0, std::string("<< /Type /Font /Subtype /Type1 /BaseFont /") +
                               (face.bold ? "Helvetica-Bold" : "Helvetica") +
                               " /Encoding /WinAnsiEncoding >>");
        return;
    }
    const TrueType& ttf = *face.ttf;
    const int cid = file.reserve(), descriptor = file.reserve(), program = file.reserve(),
              cmap = file.reserve();
    std::string name = ttf.ps_name;
    if (name.empty()) name = pdf_name_chars(font_.name()) + (face.bold ? "-Bold" : "");
    if (name.empty()) name = "Font";
    file.object(type0, "<< /Type /Font /Subtype /Type0 /BaseFont /" + name +
                           " /Encoding /Identity-H /DescendantFonts [" + ref(cid) +
                           "] /ToUnicode " + ref(cmap) + " >>");
    // /W: runs of consecutive glyph ids share one array.
    std::string w = "[";
    int next = -2;
    for (const auto& [gid, cp] : face.used) {
        if (gid == next) {
            w += ' ';
        } else {
            if (next >= 0) w += "] ";
            w += std::to_string(gid);
            w += " [";
        }
        // A missing glyph advances as the Font measures it (its box), which the layout used.
        std::string utf8;
        detail::append_utf8(utf8, cp);
        w += std::to_string(gid == 0 ? std::lround(font_.text_width(utf8, 1000, face.bold))
                                     : font_.glyph_advance_1000(gid, face.bold));
        next = gid + 1;
    }
    w += face.used.empty() ? "]" : "] ]";
    file.object(cid, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /" + name +
                         " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement "
                         "0 >> /FontDescriptor " +
                         ref(descriptor) + " /CIDToGIDMap /Identity /DW " +
                         std::to_string(font_.glyph_advance_1000(0, face.bold)) + " /W " + w +
                         " >>");
    // Descriptor metrics in 1/1000 em. Ascent/Descent are the Font's, which also placed the
    // baselines; StemV is the usual estimate from the weight class (nothing stores it in a TTF).
    const double em = 1000.0 / ttf.units_per_em;
    const int flags = 32 | (ttf.fixed_pitch ? 1 : 0) | (ttf.italic_angle != 0 ? 64 : 0);
    const int stem_v = 50 + static_cast<int>(std::pow(ttf.weight / 65.0, 2));
    const int cap = ttf.cap_height > 0 ? static_cast<int>(std::lround(ttf.cap_height * em))
                                       : static_cast<int>(std::lround(font_.ascent(1000)));
    std::string d = "<< /Type /FontDescriptor /FontName /" + name + " /Flags " +
                    std::to_string(flags) + " /FontBBox [";
    for (int i = 0; i < 4; ++i) {
        if (i > 0) d += ' ';
        d += std::to_string(std::lround(ttf.bbox[i] * em));
    }
    d += "] /ItalicAngle " + detail::number(ttf.italic_angle, 2) + " /Ascent " +
         detail::number(std::round(font_.ascent(1000))) + " /Descent " +
         detail::number(-std::round(font_.descent(1000))) + " /CapHeight " + std::to_string(cap) +
         " /StemV " + std::to_string(stem_v) + " /FontFile2 " + ref(program) + " >>";
    file.object(descriptor, d);
    file.stream(program, "/Length1 " + std::to_string(ttf.data.size()), ttf.data);
    file.stream(cmap, "", to_unicode_cmap(face.used));
}

std::string PdfWriter::run() {
    const std::string w = detail::number(width_), h = detail::number(height_);
    op("1 j 0 J");  // round joins, butt caps: the scene's polyline style
    if (scene_.background.a > 0) {
        set_fill(scene_.background);
        rect_path({0, 0, width_, height_});
        op("f");
    }
    for (const Item& item : scene_.items) std::visit([this](const auto& i) { draw(i); }, item);
    for (; open_clips_ > 0; --open_clips_) restore();  // an unbalanced scene still nests

    PdfFile file;
    const int catalog = file.reserve(), pages = file.reserve(), page = file.reserve(),
              content = file.reserve(), info = file.reserve();
    std::vector<int> font_objects;
    for (size_t i = 0; i < faces_.size(); ++i) font_objects.push_back(file.reserve());
    std::vector<int> mask_objects;
    for (size_t i = 0; i < masks_.size(); ++i) mask_objects.push_back(file.reserve());

    auto shading = [](int components, std::string_view c0, std::string_view c1) {
        return "<< /ShadingType 3 /ColorSpace " +
               std::string(components == 1 ? "/DeviceGray" : "/DeviceRGB") +
               " /Coords [0 0 0 0 0 1] /Function << /FunctionType 2 /Domain [0 1] /C0 [" +
               std::string(c0) + "] /C1 [" + std::string(c1) + "] /N 1 >> /Extend [false false] >>";
    };
    auto channels = [](std::initializer_list<uint8_t> v) {
        std::string s;
        for (uint8_t x : v) {
            if (!s.empty()) s += ' ';
            append_number(s, x / 255.0, 4);
        }
        return s;
    };

    std::string resources = "<< /Font <<";
    for (size_t i = 0; i < faces_.size(); ++i)
        resources += " /" + faces_[i].resource + " " + ref(font_objects[i]);
    resources += " >> /ExtGState <<";
    for (const auto& [key, name] : alpha_gs_)
        resources += " /" + name + " << /Type /ExtGState /" + (key.first ? "CA " : "ca ") +
                     detail::number(key.second / 255.0, 4) + " >>";
    for (const auto& [alphas, index] : masks_) {
        resources += " /M" + std::to_string(index) +
                     " << /Type /ExtGState /SMask << /Type /Mask /S /Luminosity /G " +
                     ref(mask_objects[index - 1]) + " >> >>";
        // The mask: the alpha ramp as grey on the unit disc; black (alpha 0) outside.
        file.stream(mask_objects[index - 1],
                    "/Type /XObject /Subtype /Form /BBox [-1 -1 1 1] /Group << /S /Transparency "
                    "/CS /DeviceGray >> /Resources << /Shading << /Sh0 " +
                        shading(1, channels({alphas.first}), channels({alphas.second})) + " >> >>",
                    "/Sh0 sh");
    }
    resources += " >> /Shading <<";
    for (const auto& [c, index] : shadings_)
        resources += " /Sh" + std::to_string(index) + " " +
                     shading(3, channels({c[0], c[1], c[2]}), channels({c[3], c[4], c[5]}));
    resources += " >> >>";

    file.object(catalog, "<< /Type /Catalog /Pages " + ref(pages) + " >>");
    file.object(pages, "<< /Type /Pages /Kids [" + ref(page) + "] /Count 1 >>");
    file.object(page, "<< /Type /Page /Parent " + ref(pages) + " /MediaBox [0 0 " + w + " " + h +
                          "] /Resources " + resources + " /Contents " + ref(content) +
                          " /Group << /S /Transparency /CS /DeviceRGB >> >>");
    file.stream(content, "", c_);
    file.object(info, "<< /Producer (headmap) >>");  // no dates: identical scenes, identical bytes
    for (size_t i = 0; i < faces_.size(); ++i) write_face(file, font_objects[i], faces_[i]);
    return file.finish(catalog, info);
}

}  // namespace

std::string render_pdf(const Scene& scene, const Font& font) {
    return PdfWriter(scene, font).run();
}

}  // namespace headmap::viz
