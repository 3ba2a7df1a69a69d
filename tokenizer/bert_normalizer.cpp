#include "tokenizer/bert_normalizer.h"

#include "tokenizer/unicode_bert_tables.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace headmap::bert {

namespace {

namespace tables = headmap::unicode::bert;

// Hangul syllable decomposition constants (Unicode chapter 3.12).
constexpr char32_t kHangulBase = 0xAC00, kHangulLast = 0xD7A3;
constexpr char32_t kLeadBase = 0x1100, kVowelBase = 0x1161, kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21, kTrailCount = 28;

bool is_whitespace(char32_t c) {
    if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
    return unicode::is_white_space(c);
}

bool is_control(char32_t c) {
    if (c < 0x80) return c == 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r');
    return tables::is_control(c);
}

int combining_class(char32_t c) {
    return c < 0x300 ? 0 : tables::canonical_combining_class(c);
}

// Appends the full canonical decomposition of `c`, keeping combining marks in canonical order
// (stable insertion by combining class within each run of non-starters).
void append_decomposed(char32_t c, std::vector<char32_t>& out) {
    const auto append_ordered = [&out](char32_t part) {
        const int ccc = combining_class(part);
        std::size_t pos = out.size();
        out.push_back(part);
        if (ccc == 0) return;
        while (pos > 0) {
            const int previous = combining_class(out[pos - 1]);
            if (previous <= ccc) break;  // also stops at a starter (class 0)
            out[pos] = out[pos - 1];
            --pos;
        }
        out[pos] = part;
    };
    if (c < 0xC0) {
        out.push_back(c);
    } else if (c >= kHangulBase && c <= kHangulLast) {
        const char32_t index = c - kHangulBase;
        out.push_back(kLeadBase + index / (kVowelCount * kTrailCount));
        out.push_back(kVowelBase + (index % (kVowelCount * kTrailCount)) / kTrailCount);
        if (index % kTrailCount != 0) out.push_back(kTrailBase + index % kTrailCount);
    } else if (const auto parts = tables::canonical_decomposition(c); !parts.empty()) {
        for (char32_t part : parts) append_ordered(part);
    } else {
        append_ordered(c);
    }
}

void append_lowercase(char32_t c, std::vector<char32_t>& out) {
    if (c < 0x80) {
        out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE: SpecialCasing
        out.push_back(U'i');
        out.push_back(0x307);
    } else {
        out.push_back(tables::simple_lowercase(c));
    }
}

}  // namespace

bool is_chinese_char(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_pre_tokenizer_whitespace(char32_t c) {
    return is_whitespace(c);
}

bool is_pre_tokenizer_punctuation(char32_t c) {
    if (c < 0x80) {
        return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
               (c >= '{' && c <= '~');
    }
    return tables::is_punctuation(c);
}

void normalize(std::span<const char32_t> text, const NormalizerOptions& options,
               std::vector<char32_t>& out, std::vector<char32_t>& scratch) {
    // Steps 1 and 2 are per character; they go straight to `out` unless step 3 follows.
    const bool strip = options.strip_accents;
    std::vector<char32_t>& stage = strip ? scratch : out;
    const std::size_t out_start = out.size();
    if (strip) scratch.clear();
    for (char32_t c : text) {
        if (options.clean_text) {
            if (is_control(c)) continue;
            if (is_whitespace(c)) c = ' ';
        }
        if (options.handle_chinese_chars && c >= 0x3400 && is_chinese_char(c)) {
            stage.push_back(' ');
            stage.push_back(c);
            stage.push_back(' ');
        } else {
            stage.push_back(c);
        }
    }
    if (strip) {
        // NFD into `out`, then drop the nonspacing marks (after reordering, as HF does).
        for (char32_t c : scratch) append_decomposed(c, out);
        std::size_t kept = out_start;
        for (std::size_t i = out_start; i < out.size(); ++i) {
            if (out[i] < 0x300 || !tables::is_nonspacing_mark(out[i])) out[kept++] = out[i];
        }
        out.resize(kept);
    }
    if (options.lowercase) {
        scratch.assign(out.begin() + static_cast<std::ptrdiff_t>(out_start), out.end());
        out.resize(out_start);
        for (char32_t c : scratch) append_lowercase(c, out);
    }
}

std::string normalize_utf8(std::string_view valid_utf8, const NormalizerOptions& options) {
    std::vector<char32_t> code_points, normalized, scratch;
    for (const auto& decoded : utf8::decode_valid(valid_utf8)) {
        code_points.push_back(decoded.code_point);
    }
    normalize(code_points, options, normalized, scratch);
    std::string result;
    for (char32_t c : normalized) utf8::append_code_point(result, c);
    return result;
}

}  // namespace headmap::bert
