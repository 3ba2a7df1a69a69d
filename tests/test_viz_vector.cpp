// The vector back ends: SVG must be well-formed XML with text kept as escaped <text>, PDF must be
// structurally valid (xref offsets, stream lengths, trailer) with the font embedded and text
// searchable, and poppler must draw it as the scene says.
#include <doctest/doctest.h>

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"
#include "tools/viz_io.h"
#include "viz/render.h"

// Scene items are written with designated initializers naming only what matters; the members
// left out keep their declared defaults, which is the point, so GCC's -Wextra note is noise here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace headmap::viz;
using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

namespace {

bool have_command(const char* name) {
    return std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0;
}

// ---- A small strict XML 1.0 checker: "" when well-formed, else what is wrong and where. ----

bool name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
}
bool name_char(char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Character data up to the next '<' (or the end): only valid references after '&', no "]]>".
std::string check_chars(std::string_view s, bool attribute) {
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '<') return "raw '<'";
        if (!attribute && s.substr(i, 3) == "]]>") return "']]>' in text";
        if (s[i] != '&') continue;
        const size_t end = s.find(';', i);
        if (end == std::string_view::npos) return "unterminated reference";
        const std::string_view ref = s.substr(i + 1, end - i - 1);
        const bool named =
            ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos";
        bool numeric = ref.size() > 1 && ref[0] == '#';
        for (size_t k = ref.size() > 1 && ref[1] == 'x' ? 2 : 1; numeric && k < ref.size(); ++k)
            numeric = std::isxdigit(static_cast<unsigned char>(ref[k])) != 0;
        if (!named && !numeric) return "bad reference &" + std::string(ref) + ";";
        i = end;
    }
    return "";
}

// Strict UTF-8 and XML 1.0 Char validity of the whole document.
std::string check_encoding(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const int len = b < 0x80         ? 1
                        : (b >> 5) == 6  ? 2
                        : (b >> 4) == 14 ? 3
                        : (b >> 3) == 30 ? 4
                                         : 0;
        if (len == 0 || i + len > s.size()) return "bad UTF-8 at " + std::to_string(i);
        uint32_t cp = len == 1 ? b : b & (0x7F >> len);
        for (int k = 1; k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c >> 6) != 2) return "bad UTF-8 at " + std::to_string(i);
            cp = cp << 6 | (c & 0x3F);
        }
        const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return "bad UTF-8 at " + std::to_string(i);
        if ((cp < 0x20 && cp != 9 && cp != 10 && cp != 13) || cp == 0xFFFE || cp == 0xFFFF)
            return "character not allowed in XML at " + std::to_string(i);
        i += len;
    }
    return "";
}

std::string xml_error(std::string_view doc) {
    if (std::string e = check_encoding(doc); !e.empty()) return e;
    size_t i = 0;
    auto at = [&](std::string_view what) { return doc.substr(i, what.size()) == what; };
    auto fail = [&](const std::string& what) { return what + " at byte " + std::to_string(i); };
    auto read_name = [&] {
        const size_t start = i;
        if (i < doc.size() && name_start(doc[i]))
            while (i < doc.size() && name_char(doc[i])) ++i;
        return std::string(doc.substr(start, i - start));
    };
    if (at("<?xml")) {
        i = doc.find("?>");
        if (i == std::string_view::npos) return "unterminated XML declaration";
        i += 2;
    }
    std::vector<std::string> open;
    bool seen_root = false;
    while (i < doc.size()) {
        const size_t lt = doc.find('<', i);
        const std::string_view text =
            doc.substr(i, lt == std::string_view::npos ? doc.npos : lt - i);
        if (open.empty() && text.find_first_not_of(" \t\r\n") != std::string_view::npos)
            return fail("text outside the root element");
        if (std::string e = check_chars(text, false); !e.empty()) return fail(e);
        if (lt == std::string_view::npos) break;
        i = lt;
        if (at("<!--")) {
            const size_t end = doc.find("-->", i + 4);
            if (end == std::string_view::npos) return fail("unterminated comment");
            i = end + 3;
        } else if (at("<![CDATA[")) {
            const size_t end = doc.find("]]>", i);
            if (end == std::string_view::npos || open.empty()) return fail("bad CDATA");
            i = end + 3;
        } else if (at("</")) {
            i += 2;
            const std::string name = read_name();
            while (i < doc.size() && space(doc[i])) ++i;
            if (open.empty() || name != open.back() || !at(">"))
                return fail("mismatched end tag </" + name + ">");
            open.pop_back();
            ++i;
        } else {
            ++i;
            const std::string name = read_name();
            if (name.empty()) return fail("bad tag name");
            if (open.empty() && seen_root) return fail("second root element");
            seen_root = true;
            std::vector<std::string> attributes;
            for (;;) {
                const size_t before = i;
                while (i < doc.size() && space(doc[i])) ++i;
                if (at("/>") || at(">")) break;
                if (i == before) return fail("attributes need white space between them");
                const std::string attribute = read_name();
                if (attribute.empty()) return fail("bad attribute name in <" + name + ">");
                for (const auto& a : attributes)
                    if (a == attribute) return fail("duplicate attribute " + attribute);
                attributes.push_back(attribute);
                while (i < doc.size() && space(doc[i])) ++i;
                if (!at("=")) return fail("attribute " + attribute + " without value");
                ++i;
                while (i < doc.size() && space(doc[i])) ++i;
                if (i >= doc.size() || (doc[i] != '"' && doc[i] != '\''))
                    return fail("unquoted attribute " + attribute);
                const size_t end = doc.find(doc[i], i + 1);
                if (end == std::string_view::npos) return fail("unterminated attribute value");
                if (std::string e = check_chars(doc.substr(i + 1, end - i - 1), true); !e.empty())
                    return fail(e + " in attribute " + attribute);
                i = end + 1;
            }
            if (at("/>")) {
                i += 2;
            } else {
                open.push_back(name);
                ++i;
            }
        }
    }
    if (!open.empty()) return "unclosed <" + open.back() + ">";
    if (!seen_root) return "no root element";
    return "";
}

// ---- PDF structure: header, trailer, xref offsets, stream lengths. "" when valid. ----

std::string pdf_error(const std::string& pdf) {
    if (pdf.rfind("%PDF-1.", 0) != 0) return "no %PDF- header";
    const size_t eof = pdf.rfind("%%EOF");
    if (eof == std::string::npos || pdf.find_first_not_of("\r\n", eof + 5) != std::string::npos)
        return "does not end with %%EOF";
    const size_t sx = pdf.rfind("startxref");
    if (sx == std::string::npos) return "no startxref";
    const size_t xref = std::strtoull(pdf.c_str() + sx + 9, nullptr, 10);
    if (xref >= pdf.size() || pdf.compare(xref, 5, "xref\n") != 0)
        return "startxref does not point at xref";
    char* end = nullptr;
    const char* p = pdf.c_str() + xref + 5;
    if (std::strtoul(p, &end, 10) != 0) return "xref does not start at object 0";
    const size_t count = std::strtoul(end, &end, 10);
    size_t entry = static_cast<size_t>(end - pdf.c_str()) + 1;  // past the subsection's EOL
    if (count < 2) return "xref lists no objects";
    for (size_t n = 0; n < count; ++n, entry += 20) {
        if (entry + 20 > pdf.size()) return "truncated xref";
        const std::string e = pdf.substr(entry, 20);
        if (e[10] != ' ' || e[16] != ' ' || (e.substr(18) != " \n" && e.substr(18) != "\r\n"))
            return "malformed xref entry " + std::to_string(n) + ": " + e;
        const size_t offset = std::stoull(e.substr(0, 10));
        if (n == 0) {
            if (e[17] != 'f') return "entry 0 is not free";
            continue;
        }
        if (e[17] != 'n') return "object " + std::to_string(n) + " not in use";
        const std::string head = std::to_string(n) + " 0 obj";
        if (offset >= pdf.size() || pdf.compare(offset, head.size(), head) != 0)
            return "xref offset of object " + std::to_string(n) + " does not point at it";
        // A stream's /Length must land exactly on endstream.
        const size_t obj_end = pdf.find("endobj", offset), stream = pdf.find("stream\n", offset);
        if (stream < obj_end) {
            const size_t length = pdf.find("/Length ", offset);
            if (length > stream) return "stream without /Length in object " + std::to_string(n);
            const size_t data = stream + 7 + std::stoull(pdf.substr(length + 8, 20));
            if (pdf.compare(data, 10, "\nendstream") != 0)
                return "/Length of object " + std::to_string(n) + " is wrong";
        }
    }
    const size_t trailer = pdf.find("trailer", entry);
    if (trailer != entry) return "no trailer after the xref table";
    const size_t size = pdf.find("/Size ", trailer);
    if (size == std::string::npos || std::stoull(pdf.substr(size + 6, 20)) != count)
        return "trailer /Size does not match the xref";
    if (pdf.find("/Root ", trailer) == std::string::npos) return "trailer without /Root";
    return "";
}

size_t count(std::string_view haystack, std::string_view needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string_view::npos;
         at = haystack.find(needle, at + 1))
        ++n;
    return n;
}

// Everything each back end has to handle, with known colours at known places for the pixel
// checks.
Scene sample_scene() {
    Scene s;
    s.width = 320;
    s.height = 200;
    s.background = {250, 250, 250, 255};
    s.add(RectItem{.x = 10,
                   .y = 10,
                   .w = 100,
                   .h = 50,
                   .fill = {200, 30, 40, 255},
                   .stroke = {0, 0, 0, 255},
                   .stroke_width = 1});
    s.add(RectItem{.x = 150, .y = 10, .w = 60, .h = 40, .fill = {0, 0, 255, 128}});
    s.add(CircleItem{.cx = 250,
                     .cy = 40,
                     .r = 20,
                     .fill = {0, 160, 0, 255},
                     .stroke = {0, 0, 0, 200},
                     .stroke_width = 2});
    s.add(GradientCircleItem{
        .cx = 60, .cy = 140, .r = 30, .inner = {255, 0, 0, 255}, .outer = {255, 0, 0, 0}});
    s.add(GradientCircleItem{
        .cx = 140, .cy = 140, .r = 30, .inner = {0, 0, 255, 255}, .outer = {255, 255, 0, 255}});
    s.add(PolylineItem{
        .points = {{200, 100}, {250, 150}, {300, 100}}, .stroke = {0, 0, 0, 255}, .width = 3});
    s.add(ClipBegin{.x = 200, .y = 160, .w = 50, .h = 30});
    s.add(RectItem{.x = 180, .y = 150, .w = 200, .h = 100, .fill = {0, 128, 0, 255}});
    s.add(ClipEnd{});
    s.add(TextItem{.utf8 = "Hello", .x = 20, .y = 190, .size = 14});
    s.add(TextItem{.utf8 = "a<b & \"c\"",
                   .x = 160,
                   .y = 100,
                   .size = 12,
                   .anchor = Anchor::Middle,
                   .baseline = Baseline::Middle});
    s.add(TextItem{
        .utf8 = "Vertical", .x = 300, .y = 190, .size = 12, .rotation_deg = -90, .bold = true});
    return s;
}

Font ttf_font() {
    Font font = headmap::viz_io::load_font();
    INFO("no TrueType font found: install fonts-dejavu-core");
    REQUIRE_FALSE(font.is_builtin());
    REQUIRE_FALSE(font.file_name().empty());
    return font;
}

struct Rendered {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;
    std::array<int, 3> at(int x, int y) const {
        const size_t i = (static_cast<size_t>(y) * width + x) * 3;
        return {rgb[i], rgb[i + 1], rgb[i + 2]};
    }
};

// pdftoppm at 72 dpi (1 pt = 1 px). Missing poppler-utils is a failure, not a skip: CI installs
// it, and without it nothing checks that a real reader accepts the file.
Rendered rasterize_pdf(const std::string& pdf) {
    INFO("pdftoppm not found: install poppler-utils (apt-get install poppler-utils)");
    REQUIRE(have_command("pdftoppm"));
    TempDir tmp;
    write_file(tmp / "in.pdf", pdf);
    const std::string command = "pdftoppm -r 72 -png -singlefile '" + (tmp / "in.pdf").string() +
                                "' '" + (tmp / "out").string() + "' 2>'" + (tmp / "err").string() +
                                "'";
    const int status = std::system(command.c_str());
    const std::string err = read_file(tmp / "err");
    INFO("pdftoppm stderr: " << err);
    REQUIRE(status == 0);
    CHECK(err.find("Error") == std::string::npos);
    int w = 0, h = 0, channels = 0;
    const std::string png = read_file(tmp / "out.png");
    std::unique_ptr<uint8_t, void (*)(void*)> pixels(
        stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()),
                              static_cast<int>(png.size()), &w, &h, &channels, 3),
        stbi_image_free);
    REQUIRE(pixels != nullptr);
    Rendered r{w, h, std::vector<uint8_t>(pixels.get(), pixels.get() + size_t(w) * h * 3)};
    return r;
}

void check_colour(const Rendered& image, int x, int y, std::array<int, 3> want, int tolerance) {
    const auto got = image.at(x, y);
    INFO("pixel (" << x << ", " << y << ") is " << got[0] << " " << got[1] << " " << got[2]
                   << ", want " << want[0] << " " << want[1] << " " << want[2]);
    for (int c = 0; c < 3; ++c) CHECK(std::abs(got[c] - want[c]) <= tolerance);
}

// Dark pixels' bounding box within [x0, x1) x [y0, y1): {min x, min y, max x, max y}, or -1s.
std::array<int, 4> ink_box(const Rendered& image, int x0, int y0, int x1, int y1) {
    std::array<int, 4> box{-1, -1, -1, -1};
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            const auto p = image.at(x, y);
            if (p[0] + p[1] + p[2] > 300) continue;
            if (box[0] < 0) box = {x, y, x, y};
            box = {std::min(box[0], x), std::min(box[1], y), std::max(box[2], x),
                   std::max(box[3], y)};
        }
    return box;
}

}  // namespace

TEST_CASE("the XML checker itself rejects what it should") {
    CHECK(xml_error("<a b=\"1\"><c/>t&amp;x</a>") == "");
    CHECK(xml_error("<a><b></a></b>") != "");
    CHECK(xml_error("<a b=1/>") != "");
    CHECK(xml_error("<a>x & y</a>") != "");
    CHECK(xml_error("<a b=\"<\"/>") != "");
    CHECK(xml_error("<a>\x01</a>") != "");
    CHECK(xml_error("<a>\xff</a>") != "");
    CHECK(xml_error("<a/><b/>") != "");
}

TEST_CASE("SVG is a well-formed standalone document with text kept as text") {
    for (const bool builtin : {false, true}) {
        CAPTURE(builtin);
        const Font font = builtin ? Font::builtin() : ttf_font();
        const Scene scene = sample_scene();
        const std::string svg = render_svg(scene, font);
        INFO(svg);
        CHECK(xml_error(svg) == "");
        CHECK(svg.rfind("<?xml", 0) == 0);
        CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"320\" "
                       "height=\"200\" viewBox=\"0 0 320 200\">") != std::string::npos);
        CHECK(svg.find(">a&lt;b &amp; &quot;c&quot;</text>") != std::string::npos);
        CHECK(svg.find(">Hello</text>") != std::string::npos);
        CHECK(svg.find("transform=\"rotate(-90 300 190)\"") != std::string::npos);
        CHECK(svg.find("<clipPath id=") != std::string::npos);
        CHECK(svg.find("clip-path=\"url(#") != std::string::npos);
        CHECK(svg.find("<radialGradient") != std::string::npos);
        CHECK(svg.find("gradientUnits=\"userSpaceOnUse\"") != std::string::npos);
        CHECK(svg.find("fill-opacity=\"0.502\"") != std::string::npos);
        CHECK(svg.find("text-anchor=\"middle\"") != std::string::npos);
        CHECK(svg.find("font-weight=\"bold\"") != std::string::npos);
        CHECK(svg.find("stroke-linejoin=\"round\"") != std::string::npos);
        CHECK(svg.find("DejaVu Sans, sans-serif") != std::string::npos);
        CHECK(render_svg(scene, font) == svg);  // deterministic

        if (have_command("xmllint")) {
            TempDir tmp;
            write_file(tmp / "scene.svg", svg);
            const std::string cmd = "xmllint --noout '" + (tmp / "scene.svg").string() + "'";
            CHECK(std::system(cmd.c_str()) == 0);
        }
    }
}

TEST_CASE("SVG drops characters XML forbids and replaces invalid UTF-8") {
    Scene scene{.width = 10, .height = 10};
    scene.add(TextItem{.utf8 = "x\x01y\xffz\xe2\x82", .x = 1, .y = 5});
    scene.add(TextItem{.utf8 = "it's\t\xc3\xa9", .x = 1, .y = 5});
    const std::string svg = render_svg(scene, Font::builtin());
    CHECK(xml_error(svg) == "");
    CHECK(svg.find(">xy\xEF\xBF\xBDz\xEF\xBF\xBD</text>") != std::string::npos);
    CHECK(svg.find(">it&apos;s\t\xc3\xa9</text>") != std::string::npos);
}

TEST_CASE("SVG places baselines from the font's ascent and descent") {
    const Font font = Font::builtin();
    Scene scene{.width = 100, .height = 100};
    scene.add(TextItem{.utf8 = "T", .x = 10, .y = 50, .size = 20, .baseline = Baseline::Top});
    scene.add(TextItem{.utf8 = "B", .x = 10, .y = 50, .size = 20, .baseline = Baseline::Bottom});
    const std::string svg = render_svg(scene, font);
    auto y_of = [&](std::string_view letter) {
        const size_t end = svg.find(std::string(">") + std::string(letter) + "</text>");
        const size_t y = svg.rfind(" y=\"", end);
        return std::stof(svg.substr(y + 4));
    };
    CHECK(y_of("T") == doctest::Approx(50 + font.ascent(20)).epsilon(1e-3));
    CHECK(y_of("B") == doctest::Approx(50 - font.descent(20)).epsilon(1e-3));
    CHECK(svg.find("dominant-baseline") == std::string::npos);
}

TEST_CASE("numbers are locale-independent") {
    const Scene scene = sample_scene();
    const std::string svg = render_svg(scene, Font::builtin());
    const std::string pdf = render_pdf(scene, Font::builtin());
    for (const char* locale : {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR"}) {
        if (std::setlocale(LC_ALL, locale) == nullptr) continue;
        CHECK(render_svg(scene, Font::builtin()) == svg);
        CHECK(render_pdf(scene, Font::builtin()) == pdf);
        break;
    }
    std::setlocale(LC_ALL, "C");
    CHECK(svg.find("opacity=\"0,") == std::string::npos);
}

TEST_CASE("PDF with an embedded TrueType font is valid and searchable") {
    const Font font = ttf_font();
    const Scene scene = sample_scene();
    const std::string pdf = render_pdf(scene, font);
    CHECK(pdf_error(pdf) == "");
    CHECK(render_pdf(scene, font) == pdf);  // deterministic
    CHECK(pdf.find("/MediaBox [0 0 320 200]") != std::string::npos);
    CHECK(count(pdf, "/Type /Page ") == 1);

    // The regular face is embedded whole; the bold one too when the font has its own file.
    const std::string ttf = read_file(font.file_name());
    CHECK(pdf.find("/FontFile2") != std::string::npos);
    CHECK(pdf.find("/Length1 " + std::to_string(ttf.size()) + " ") != std::string::npos);
    CHECK(pdf.find("/Subtype /Type0") != std::string::npos);
    CHECK(pdf.find("/Subtype /CIDFontType2") != std::string::npos);
    CHECK(pdf.find("/Encoding /Identity-H") != std::string::npos);
    CHECK(pdf.find("/CIDToGIDMap /Identity") != std::string::npos);
    CHECK(count(pdf, "/FontFile2") == (font.has_bold_face() ? 2u : 1u));

    // "Hello" is findable: each of its glyphs maps back to its character.
    for (const char32_t c : std::u32string(U"Helo")) {
        char entry[32];
        std::snprintf(entry, sizeof entry, "<%04X> <%04X>", font.glyph_index(c),
                      static_cast<unsigned>(c));
        INFO("ToUnicode entry " << entry);
        CHECK(pdf.find(entry) != std::string::npos);
    }
    CHECK(pdf.find("beginbfchar") != std::string::npos);
    // -90 degrees: the text matrix turns the baseline to point up the page.
    CHECK(pdf.find("0 1 -1 0 ") != std::string::npos);
    CHECK(pdf.find("/SMask") != std::string::npos);
    CHECK(pdf.find("/ShadingType 3") != std::string::npos);
}

TEST_CASE("PDF draws the scene as poppler sees it") {
    const Rendered image = rasterize_pdf(render_pdf(sample_scene(), ttf_font()));
    REQUIRE(image.width == 320);
    REQUIRE(image.height == 200);
    check_colour(image, 60, 35, {200, 30, 40}, 2);       // opaque rect
    check_colour(image, 180, 30, {125, 125, 253}, 4);    // 50 % blue over the background
    check_colour(image, 5, 5, {250, 250, 250}, 1);       // background
    check_colour(image, 250, 40, {0, 160, 0}, 2);        // circle
    check_colour(image, 225, 175, {0, 128, 0}, 2);       // inside the clip
    check_colour(image, 190, 175, {250, 250, 250}, 1);   // clipped away, left
    check_colour(image, 225, 155, {250, 250, 250}, 1);   // clipped away, above
    check_colour(image, 140, 140, {6, 6, 249}, 12);      // colour gradient: centre
    check_colour(image, 155, 140, {132, 132, 123}, 12);  // half way
    check_colour(image, 140, 173, {250, 250, 250}, 1);   // outside the disc
    check_colour(image, 60, 140, {255, 6, 6}, 12);       // alpha gradient: centre
    check_colour(image, 75, 140, {252, 129, 129}, 12);   // half transparent half way
    check_colour(image, 60, 173, {250, 250, 250}, 1);
    check_colour(image, 249, 148, {0, 0, 0}, 40);  // the polyline, near its apex

    const auto hello = ink_box(image, 15, 170, 90, 199);
    CHECK(hello[0] >= 19);
    CHECK(hello[0] <= 23);
    CHECK(hello[3] <= 191);  // sits on its baseline
    CHECK(hello[2] - hello[0] > 25);
    const auto vertical = ink_box(image, 280, 125, 318, 199);
    INFO("vertical text ink " << vertical[0] << "," << vertical[1] << " " << vertical[2] << ","
                              << vertical[3]);
    CHECK(vertical[2] - vertical[0] < 16);  // reads upwards: tall, narrow
    CHECK(vertical[3] - vertical[1] > 40);
    CHECK(vertical[2] <= 301);  // the glyphs stand left of the baseline at x = 300
    CHECK(vertical[3] <= 191);  // starting at the anchor, going up
}

TEST_CASE("PDF with the builtin font uses Helvetica and stays valid") {
    Scene scene = sample_scene();
    scene.add(TextItem{.utf8 = "\xc3\xa9\xe2\x86\x92\xe2\x80\xa6", .x = 5, .y = 20});  // é→…
    const std::string pdf = render_pdf(scene, Font::builtin());
    CHECK(pdf_error(pdf) == "");
    CHECK(pdf.find("/MediaBox [0 0 320 200]") != std::string::npos);
    CHECK(pdf.find("/BaseFont /Helvetica ") != std::string::npos);
    CHECK(pdf.find("/BaseFont /Helvetica-Bold ") != std::string::npos);
    CHECK(pdf.find("/FontFile2") == std::string::npos);
    CHECK(pdf.find("<48656C6C6F> Tj") != std::string::npos);  // "Hello", searchable as is
    CHECK(pdf.find("<E93F85> Tj") != std::string::npos);      // é, '?' for →, WinAnsi …
    const Rendered image = rasterize_pdf(pdf);
    check_colour(image, 60, 35, {200, 30, 40}, 2);
    CHECK(ink_box(image, 15, 170, 90, 199)[0] >= 0);  // the text is drawn
}

TEST_CASE("degenerate scenes still give valid files") {
    Scene scene{.width = 50, .height = 40};
    scene.add(ClipEnd{});  // unmatched
    scene.add(ClipBegin{.x = 40, .y = 30, .w = -20, .h = -10});
    scene.add(RectItem{.x = 0, .y = 0, .w = -5, .h = 5, .fill = {1, 2, 3, 255}});
    scene.add(CircleItem{.r = 0, .fill = {1, 2, 3, 255}});
    scene.add(PolylineItem{.points = {{1, 1}}});
    scene.add(TextItem{.utf8 = "", .x = 1, .y = 1});
    scene.add(RectItem{.x = 1e30f, .y = -1e30f, .w = 1, .h = 1, .fill = {1, 2, 3, 255}});
    // ClipBegin left open on purpose.
    for (const Font& font : {Font::builtin(), ttf_font()}) {
        CHECK(xml_error(render_svg(scene, font)) == "");
        const std::string pdf = render_pdf(scene, font);
        CHECK(pdf_error(pdf) == "");
        CHECK(count(pdf, "\nq\n") == count(pdf, "\nQ\n"));
        CHECK(pdf.find("e+") == std::string::npos);  // PDF has no exponent notation
    }
}
