// SVG back end: the Scene as a standalone SVG 1.1 document. Text stays <text> (searchable,
// editable); its baseline is placed from the Font's ascent/descent rather than with
// dominant-baseline, which viewers implement inconsistently, so SVG agrees with PNG and PDF.
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

#include "viz/render.h"
#include "viz/vector_common.h"

namespace headmap::viz {
namespace {

using detail::append_number;

// XML 1.0's Char production: anything else (most C0 controls, U+FFFE, U+FFFF) makes the
// document ill-formed even when escaped, so such characters are dropped.
bool xml_char_allowed(char32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Escaped for both text content and attribute values (quotes included, so either context is
// safe); invalid UTF-8 becomes U+FFFD.
void append_escaped(std::string& out, std::string_view utf8) {
    for (char32_t c : detail::decode_utf8(utf8)) {
        if (!xml_char_allowed(c)) continue;
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                detail::append_utf8(out, c);
        }
    }
}

// The font's family name reduced to characters that need no CSS quoting or escaping, so a
// strange name from --font cannot break the attribute; DejaVu Sans and the generic family
// follow as fallbacks for viewers without that font.
std::string font_family(const Font& font) {
    std::string family;
    if (!font.is_builtin()) {
        for (char c : font.name())
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == ' ' || c == '-' || c == '_')
                family += c;
        while (!family.empty() && family.back() == ' ') family.pop_back();
        while (!family.empty() && family.front() == ' ') family.erase(family.begin());
    }
    if (family.empty() || family == "DejaVu Sans") return "DejaVu Sans, sans-serif";
    return "'" + family + "', DejaVu Sans, sans-serif";
}

class SvgWriter {
  public:
    SvgWriter(const Scene& scene, const Font& font)
        : scene_(scene), font_(font), family_(font_family(font)) {}

    std::string run() {
        const std::string w = detail::number(scene_.width), h = detail::number(scene_.height);
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
        out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w +
                "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\">\n";
        if (scene_.background.a > 0) {
            out_ += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\"";
            paint("fill", scene_.background);
            out_ += "/>\n";
        }
        for (const Item& item : scene_.items) std::visit([this](const auto& i) { draw(i); }, item);
        // An unbalanced scene (ClipBegin without ClipEnd) still gives a well-formed document.
        for (; open_clips_ > 0; --open_clips_) out_ += "</g>\n";
        out_ += "</svg>\n";
        return std::move(out_);
    }

  private:
    void num(float v) { append_number(out_, v); }

    void attr(const char* name, float v) {
        out_ += ' ';
        out_ += name;
        out_ += "=\"";
        num(v);
        out_ += '"';
    }

    // fill="#rrggbb" (or stroke=...), plus fill-opacity only when not opaque, to keep the
    // common case small.
    void paint(const char* property, Color c) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "#%02x%02x%02x", c.r, c.g, c.b);
        out_ += ' ';
        out_ += property;
        out_ += "=\"";
        out_ += hex;
        out_ += '"';
        if (c.a < 255) {
            out_ += ' ';
            out_ += property;
            out_ += "-opacity=\"";
            append_number(out_, c.a / 255.0, 4);
            out_ += '"';
        }
    }

    // Fill and optional outline shared by rect and circle: alpha 0 means "not filled".
    void fill_and_stroke(Color fill, Color stroke, float stroke_width) {
        if (fill.a > 0)
            paint("fill", fill);
        else
            out_ += " fill=\"none\"";
        if (stroke_width > 0 && stroke.a > 0) {
            paint("stroke", stroke);
            attr("stroke-width", stroke_width);
        }
    }

    static bool has_stroke(Color stroke, float width) { return width > 0 && stroke.a > 0; }

    void draw(const RectItem& r) {
        if (r.fill.a == 0 && !has_stroke(r.stroke, r.stroke_width)) return;
        const detail::Box b = detail::normalized(r.x, r.y, r.w, r.h);
        out_ += "<rect";
        attr("x", b.x);
        attr("y", b.y);
        attr("width", b.w);
        attr("height", b.h);
        fill_and_stroke(r.fill, r.stroke, r.stroke_width);
        out_ += "/>\n";
    }

    void draw(const CircleItem& c) {
        if (c.r <= 0 || (c.fill.a == 0 && !has_stroke(c.stroke, c.stroke_width))) return;
        out_ += "<circle";
        attr("cx", c.cx);
        attr("cy", c.cy);
        attr("r", c.r);
        fill_and_stroke(c.fill, c.stroke, c.stroke_width);
        out_ += "/>\n";
    }

    // One <radialGradient> per item, in user space, so it is exactly the item's disc; the
    // stops carry straight (non-premultiplied) colour and opacity, as the scene defines.
    void draw(const GradientCircleItem& g) {
        if (g.r <= 0 || (g.inner.a == 0 && g.outer.a == 0)) return;
        const std::string id = "grad" + std::to_string(++next_gradient_);
        out_ += "<defs><radialGradient id=\"" + id + "\" gradientUnits=\"userSpaceOnUse\"";
        attr("cx", g.cx);
        attr("cy", g.cy);
        attr("r", g.r);
        out_ += ">";
        stop(0, g.inner);
        stop(1, g.outer);
        out_ += "</radialGradient></defs>\n<circle";
        attr("cx", g.cx);
        attr("cy", g.cy);
        attr("r", g.r);
        out_ += " fill=\"url(#" + id + ")\"/>\n";
    }

    void stop(int offset, Color c) {
        out_ += offset == 0 ? "<stop offset=\"0\"" : "<stop offset=\"1\"";
        char hex[8];
        std::snprintf(hex, sizeof hex, "#%02x%02x%02x", c.r, c.g, c.b);
        out_ += " stop-color=\"";
        out_ += hex;
        out_ += "\" stop-opacity=\"";
        append_number(out_, c.a / 255.0, 4);
        out_ += "\"/>";
    }

    void draw(const PolylineItem& p) {
        if (p.points.size() < 2 || p.width <= 0 || p.stroke.a == 0) return;
        out_ += p.closed ? "<polygon points=\"" : "<polyline points=\"";
        for (size_t i = 0; i < p.points.size(); ++i) {
            if (i > 0) out_ += ' ';
            num(p.points[i].x);
            out_ += ',';
            num(p.points[i].y);
        }
        out_ += "\" fill=\"none\"";
        paint("stroke", p.stroke);
        attr("stroke-width", p.width);
        out_ += " stroke-linejoin=\"round\" stroke-linecap=\"butt\"/>\n";
    }

    // text-anchor keeps start/middle/end right even where the viewer substitutes another font;
    // the baseline is an explicit y shift (see the file comment). The shift is applied before
    // the rotation, which turns about the anchor point as the scene specifies.
    void draw(const TextItem& t) {
        if (t.utf8.empty() || t.size <= 0 || t.color.a == 0) return;
        out_ += "<text xml:space=\"preserve\"";
        attr("x", t.x);
        attr("y", t.y + detail::baseline_shift(font_, t.baseline, t.size));
        out_ += " font-family=\"" + family_ + "\"";
        attr("font-size", t.size);
        if (t.bold) out_ += " font-weight=\"bold\"";
        if (t.anchor == Anchor::Middle) out_ += " text-anchor=\"middle\"";
        if (t.anchor == Anchor::End) out_ += " text-anchor=\"end\"";
        paint("fill", t.color);
        if (t.rotation_deg != 0) {
            out_ += " transform=\"rotate(";
            num(t.rotation_deg);
            out_ += ' ';
            num(t.x);
            out_ += ' ';
            num(t.y);
            out_ += ")\"";
        }
        out_ += '>';
        append_escaped(out_, t.utf8);
        out_ += "</text>\n";
    }

    // Each clip is a <clipPath> and a group; nested clips nest groups, which intersects them.
    void draw(const ClipBegin& c) {
        const detail::Box b = detail::normalized(c.x, c.y, c.w, c.h);
        const std::string id = "clip" + std::to_string(++next_clip_);
        out_ += "<defs><clipPath id=\"" + id + "\"><rect";
        attr("x", b.x);
        attr("y", b.y);
        attr("width", b.w);
        attr("height", b.h);
        out_ += "/></clipPath></defs>\n<g clip-path=\"url(#" + id + ")\">\n";
        ++open_clips_;
    }

    void draw(const ClipEnd&) {
        if (open_clips_ == 0) return;  // unmatched: ignoring it keeps the document well-formed
        --open_clips_;
        out_ += "</g>\n";
    }

    const Scene& scene_;
    const Font& font_;
    const std::string family_;
    std::string out_;
    int next_gradient_ = 0, next_clip_ = 0, open_clips_ = 0;
};

}  // namespace

std::string render_svg(const Scene& scene, const Font& font) {
    return SvgWriter(scene, font).run();
}

}  // namespace headmap::viz
