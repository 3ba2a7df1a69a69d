#include "tokenizer/utf8.h"

#include <cstdint>

namespace headmap::utf8 {

namespace {

// Length of the well-formed sequence starting at `pos`, or 0 when it is invalid. When it is
// invalid, `maximal_subpart` receives how many bytes form the maximal invalid prefix (at least 1)
// so the caller replaces exactly that many bytes with one U+FFFD.
std::size_t valid_sequence_length(std::string_view bytes, std::size_t pos,
                                  std::size_t& maximal_subpart) {
    const auto byte_at = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    const std::uint8_t lead = byte_at(pos);
    maximal_subpart = 1;
    if (lead < 0x80) return 1;

    // Table 3-7 "Well-Formed UTF-8 Byte Sequences": the allowed range of the second byte
    // depends on the lead byte; later bytes are always 80..BF.
    std::size_t length = 0;
    std::uint8_t second_low = 0x80, second_high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) second_low = 0xA0;   // no overlongs
        if (lead == 0xED) second_high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) second_low = 0x90;   // no overlongs
        if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;  // 80..C1, F5..FF can never start a sequence
    }

    for (std::size_t i = 1; i < length; ++i) {
        if (pos + i >= bytes.size()) return 0;  // truncated: the prefix so far is one subpart
        const std::uint8_t byte = byte_at(pos + i);
        const std::uint8_t low = i == 1 ? second_low : 0x80;
        const std::uint8_t high = i == 1 ? second_high : 0xBF;
        if (byte < low || byte > high) return 0;
        maximal_subpart = i + 1;
    }
    return length;
}

}  // namespace

std::string sanitize(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t maximal_subpart = 1;
        const std::size_t length = valid_sequence_length(bytes, pos, maximal_subpart);
        if (length > 0) {
            out.append(bytes.substr(pos, length));
            pos += length;
        } else {
            append_code_point(out, kReplacementCharacter);
            pos += maximal_subpart;
        }
    }
    return out;
}

std::string replace_invalid_bytes(std::string_view bytes, char replacement) {
    std::string out(bytes);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t maximal_subpart = 1;
        const std::size_t length = valid_sequence_length(bytes, pos, maximal_subpart);
        if (length > 0) {
            pos += length;
        } else {
            for (std::size_t i = 0; i < maximal_subpart; ++i) out[pos + i] = replacement;
            pos += maximal_subpart;
        }
    }
    return out;
}

std::vector<DecodedChar> decode_valid(std::string_view valid_utf8) {
    std::vector<DecodedChar> chars;
    chars.reserve(valid_utf8.size());
    std::size_t pos = 0;
    while (pos < valid_utf8.size()) {
        const auto lead = static_cast<std::uint8_t>(valid_utf8[pos]);
        std::size_t length = 1;
        char32_t code_point = lead;
        if (lead >= 0xF0) {
            length = 4;
            code_point = lead & 0x07;
        } else if (lead >= 0xE0) {
            length = 3;
            code_point = lead & 0x0F;
        } else if (lead >= 0xC0) {
            length = 2;
            code_point = lead & 0x1F;
        }
        for (std::size_t i = 1; i < length && pos + i < valid_utf8.size(); ++i) {
            code_point =
                (code_point << 6) | (static_cast<std::uint8_t>(valid_utf8[pos + i]) & 0x3F);
        }
        chars.push_back({code_point, pos});
        pos += length;
    }
    return chars;
}

void append_code_point(std::string& out, char32_t code_point) {
    if (code_point < 0x80) {
        out.push_back(static_cast<char>(code_point));
    } else if (code_point < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else if (code_point < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
}

}  // namespace headmap::utf8
