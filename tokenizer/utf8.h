// Small UTF-8 helpers for the tokenizer: lenient decoding with Python's replacement semantics,
// and encoding one code point.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace headmap::utf8 {

inline constexpr char32_t kReplacementCharacter = U'\uFFFD';

// One decoded code point and where its bytes start in the (sanitized) UTF-8 string.
struct DecodedChar {
    char32_t code_point;
    std::size_t byte_offset;
};

// Returns `bytes` with every maximal invalid subsequence replaced by U+FFFD ("substitution of
// maximal subparts", Unicode chapter 3), which is exactly what Python's
// bytes.decode("utf-8", errors="replace") does: a lead byte followed by a valid but truncated
// continuation becomes one U+FFFD; a byte that can never start a sequence (80-BF, C0, C1,
// F5-FF) or a lead byte whose next byte is out of its allowed range (overlongs E0 80, F0 80,
// surrogates ED A0, > U+10FFFF F4 90) becomes one U+FFFD per byte.
std::string sanitize(std::string_view bytes);

// Like sanitize(), but every byte of an invalid subsequence becomes `replacement` (ASCII), so byte
// offsets into `bytes` stay valid in the result (engine/analysis/words.cpp re-splits joined token bytes).
std::string replace_invalid_bytes(std::string_view bytes, char replacement);

// Decodes UTF-8 that is known to be valid (the output of sanitize()).
std::vector<DecodedChar> decode_valid(std::string_view valid_utf8);

void append_code_point(std::string& out, char32_t code_point);

}  // namespace headmap::utf8
