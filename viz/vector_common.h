// Helpers shared by the vector back ends (svg.cpp, pdf.cpp): strict UTF-8 decoding, compact
// locale-independent numbers, and text placement. Internal to viz/; not part of the API.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::viz::detail {

inline constexpr char32_t kReplacement = 0xFFFD;

// Decodes UTF-8, replacing each malformed sequence (bad lead byte, missing continuation,
// overlong form, surrogate, beyond U+10FFFF) with U+FFFD, so both back ends see the same code
// points whatever bytes a token label holds.
inline std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        int len = 0;
        char32_t cp = 0, min = 0;
        if (b < 0x80) {
            out.push_back(b);
            ++i;
            continue;
        } else if ((b >> 5) == 0x6) {
            len = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b >> 4) == 0xE) {
            len = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b >> 3) == 0x1E) {
            len = 4, cp = b & 0x07, min = 0x10000;
        } else {
            out.push_back(kReplacement);
            ++i;
            continue;
        }
        int got = 1;
        for (; got < len && i + got < s.size(); ++got) {
            const auto c = static_cast<unsigned char>(s[i + got]);
            if ((c >> 6) != 0x2) break;
            cp = (cp << 6) | (c & 0x3F);
        }
        // A truncated sequence swallows only the bytes that belonged to it, so the next
        // character survives.
        if (got < len || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            out.push_back(kReplacement);
        else
            out.push_back(cp);
        i += got;
    }
    return out;
}

inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Fixed notation with at most `decimals` decimals, trailing zeros trimmed: "12", "0.5", "-3.25".
// std::to_chars ignores the C locale (no "0,5"), and PDF forbids exponents, so never "1e+20".
// Non-finite values become 0 and magnitudes are capped, so a broken scene still gives a file
// every reader accepts.
inline void append_number(std::string& out, double v, int decimals = 3) {
    if (!std::isfinite(v)) v = 0;
    v = std::fmin(std::fmax(v, -1e9), 1e9);
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    if (ec != std::errc()) end = buf;  // cannot happen with the cap; keep output well-formed
    std::string_view s(buf, static_cast<size_t>(end - buf));
    if (s.find('.') != std::string_view::npos) {
        while (!s.empty() && s.back() == '0') s.remove_suffix(1);
        if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    }
    if (s.empty() || s == "-0") s = "0";
    out += s;
}

inline std::string number(double v, int decimals = 3) {
    std::string s;
    append_number(s, v, decimals);
    return s;
}

// How far (y down, px) the alphabetic baseline lies below the item's y: the same rule for PNG,
// SVG and PDF, from the Font's own ascent and descent rather than each viewer's idea of
// "hanging" or "central", so the three formats place text alike.
inline float baseline_shift(const Font& font, Baseline baseline, float size) {
    switch (baseline) {
        case Baseline::Top:
            return font.ascent(size);
        case Baseline::Middle:
            return (font.ascent(size) - font.descent(size)) * 0.5f;
        case Baseline::Bottom:
            return -font.descent(size);
        case Baseline::Alphabetic:
            break;
    }
    return 0;
}

// How far (along the text, px) the text's start lies from the anchor point.
inline float anchor_shift(Anchor anchor, float width) {
    switch (anchor) {
        case Anchor::Middle:
            return -width * 0.5f;
        case Anchor::End:
            return -width;
        case Anchor::Start:
            break;
    }
    return 0;
}

// Axis-aligned rectangle with non-negative size (scene rects may come with negative w or h).
struct Box {
    float x, y, w, h;
};
inline Box normalized(float x, float y, float w, float h) {
    if (w < 0) x += w, w = -w;
    if (h < 0) y += h, h = -h;
    return {x, y, w, h};
}

}  // namespace headmap::viz::detail
