// Token labels as shown on the axes. Byte-level BPE vocabularies (GPT-2, RoBERTa) spell bytes as
// printable stand-ins ('Ġ' = space, 'Ċ' = newline, 'Ã©' = the two bytes of 'é'); a reader wants
// the text back, with the invisible characters made visible.
#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "viz/views.h"

namespace headmap::viz {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, 0x7f..0xa0, 0xad) are shifted to U+0100.. in byte order.
struct ByteMap {
    std::array<int, 324> byte_of{};  // code point (< 324) -> byte, -1 if not a stand-in
    ByteMap() {
        byte_of.fill(-1);
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            byte_of[size_t(printable ? b : next++)] = b;
        }
    }
};
const ByteMap kByteMap;

// Decodes one UTF-8 code point at s[i]; returns its length (0 if invalid: not UTF-8, overlong,
// a surrogate or beyond U+10FFFF).
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
    const auto byte = [&](size_t k) { return uint8_t(s[k]); };
    const uint8_t b0 = byte(i);
    size_t n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

std::string hex_escape(uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    return buf;
}

// Text (valid UTF-8 or not) with whitespace made visible and control bytes escaped.
std::string make_visible(std::string_view bytes) {
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
        char32_t cp = 0;
        const size_t n = decode_utf8(bytes, i, cp);
        if (n == 0) {  // a fragment of a multi-byte character split across tokens
            out += hex_escape(uint8_t(bytes[i]));
            ++i;
            continue;
        }
        if (cp == ' ') {
            out += "\u2423";  // ␣
        } else if (cp == '\n') {
            out += "\u21b5";  // ↵
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp < 0x20 || cp == 0x7f) {
            out += hex_escape(uint8_t(cp));
        } else {
            out.append(bytes.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace

std::string display_token(std::string_view token) {
    // Llama/SentencePiece byte tokens "<0x0A>" spell one raw byte.
    if (token.size() == 6 && token.substr(0, 3) == "<0x" && token[5] == '>') {
        unsigned value = 0;
        if (std::sscanf(std::string(token.substr(3, 2)).c_str(), "%2x", &value) == 1) {
            return make_visible(std::string(1, char(value)));
        }
    }
    // Is every code point in the byte-level alphabet? Then undo the byte mapping.
    std::string bytes;
    bool byte_level = true, has_shifted = false;
    for (size_t i = 0; i < token.size();) {
        char32_t cp = 0;
        const size_t n = decode_utf8(token, i, cp);
        if (n == 0 || cp >= kByteMap.byte_of.size() || kByteMap.byte_of[cp] < 0) {
            byte_level = false;
            break;
        }
        has_shifted = has_shifted || cp >= 256;
        bytes.push_back(char(kByteMap.byte_of[cp]));
        i += n;
    }
    if (byte_level) {
        char32_t cp = 0;
        bool valid = true;
        for (size_t i = 0; i < bytes.size() && valid;) {
            const size_t n = decode_utf8(bytes, i, cp);
            valid = n != 0;
            i += n;
        }
        // Latin-1 text that is not a byte-level spelling (a WordPiece "é" would decode to a lone
        // 0xe9) stays as it is; with a shifted stand-in present it is certainly byte-level.
        if (valid || has_shifted) return make_visible(bytes);
    }
    // SentencePiece marks a leading space with U+2581 '▁'.
    std::string out;
    for (size_t i = 0; i < token.size();) {
        if (token.substr(i, 3) == "\u2581") {
            out += "\u2423";
            i += 3;
        } else {
            out.push_back(token[i++]);
        }
    }
    return out;
}

bool is_special_token(std::string_view token) {
    static constexpr std::string_view kSpecial[] = {
        "[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "<s>", "</s>", "<pad>", "<unk>", "<mask>",
    };
    for (std::string_view s : kSpecial) {
        if (token == s) return true;
    }
    // <|endoftext|>, <|im_start|>, ...
    return token.size() > 4 && token.substr(0, 2) == "<|" && token.substr(token.size() - 2) == "|>";
}

}  // namespace headmap::viz
