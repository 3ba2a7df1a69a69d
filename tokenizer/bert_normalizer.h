// BERT's text normalizer and pre-tokenizer, exactly as Hugging Face tokenizers 0.23.3
// (BertNormalizer, BertPreTokenizer). Steps, in HF's order, each over the whole text:
//   1. clean_text: drop U+0000, U+FFFD and control characters (unicode::bert::is_control);
//      map whitespace (White_Space, plus \t \n \r) to ' '.
//   2. handle_chinese_chars: put ' ' before and after every CJK ideograph (is_chinese_char).
//   3. strip_accents: NFD (Unicode 9.0 tables, canonical reordering), then drop Mn characters.
//   4. lowercase: full per-character lowercase (U+0130 becomes "i\u0307"); no final-sigma rule.
// The pre-tokenizer then splits on whitespace (removed) and punctuation (each its own word).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headmap::bert {

struct NormalizerOptions {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool strip_accents = true;
    bool lowercase = true;
};

// HF's "Chinese character" ranges (CJK Unified Ideographs and extensions A-E, compatibility
// ideographs). As in HF, U+2B820..U+2B91F (part of Extension E) is NOT included.
bool is_chinese_char(char32_t code_point);

// Normalizes `text` (code points) and appends the result to `out`. `scratch` is working memory
// (contents replaced) so callers can reuse buffers across calls.
void normalize(std::span<const char32_t> text, const NormalizerOptions& options,
               std::vector<char32_t>& out, std::vector<char32_t>& scratch);

// Convenience for tests and tools: valid UTF-8 in, normalized UTF-8 out.
std::string normalize_utf8(std::string_view valid_utf8, const NormalizerOptions& options);

// BertPreTokenizer over normalized code points: calls `on_word(std::span<const char32_t>)` for
// each word in order.
template <typename OnWord>
void pre_tokenize(std::span<const char32_t> normalized, OnWord&& on_word);

bool is_pre_tokenizer_whitespace(char32_t code_point);  // Rust char::is_whitespace
bool is_pre_tokenizer_punctuation(char32_t code_point);

template <typename OnWord>
void pre_tokenize(std::span<const char32_t> normalized, OnWord&& on_word) {
    std::size_t word_start = 0;
    for (std::size_t i = 0; i < normalized.size(); ++i) {
        const char32_t c = normalized[i];
        const bool space = is_pre_tokenizer_whitespace(c);
        if (!space && !is_pre_tokenizer_punctuation(c)) continue;
        if (i > word_start) on_word(normalized.subspan(word_start, i - word_start));
        if (!space) on_word(normalized.subspan(i, 1));
        word_start = i + 1;
    }
    if (normalized.size() > word_start) on_word(normalized.subspan(word_start));
}

}  // namespace headmap::bert
