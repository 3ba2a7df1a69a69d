#include "engine/analysis/words.h"

#include <algorithm>
#include <array>

#include "headmap/error.hpp"
#include "tokenizer/gpt2_bpe.h"
#include "tokenizer/gpt2_pretokenize.h"
#include "tokenizer/utf8.h"

namespace headmap::words {
namespace {

constexpr std::string_view kContinuation = "##";

constexpr std::array<std::string_view, 5> kWordPieceSpecials = {"[CLS]", "[SEP]", "[PAD]", "[MASK]",
                                                                "[UNK]"};
constexpr std::array<std::string_view, 6> kByteLevelSpecials = {"<|endoftext|>", "<s>",   "</s>",
                                                                "<pad>",         "<unk>", "<mask>"};

bool is_continuation(std::string_view token) {
    return token.size() > kContinuation.size() && token.substr(0, 2) == kContinuation;
}

// Holds one of GPT-2's byte-level stand-ins for unprintable bytes (U+0100..U+0143, UTF-8 C4 80 to
// C5 83): the mark of a byte-level vocabulary ('Ġ' space, 'Ċ' newline).
bool has_byte_level_stand_in(std::string_view token) {
    for (size_t i = 0; i + 1 < token.size(); ++i) {
        const auto lead = static_cast<unsigned char>(token[i]);
        const auto next = static_cast<unsigned char>(token[i + 1]);
        if ((lead == 0xC4 && next >= 0x80 && next <= 0xBF) ||
            (lead == 0xC5 && next >= 0x80 && next <= 0x83))
            return true;
    }
    return false;
}

// Words of a WordPiece sequence: "##x" continues the word before it, unless that is a special
// token or the forced boundary.
void group_wordpiece(std::span<const std::string> tokens, int boundary,
                     std::vector<int>& word_of_token) {
    int word = -1;
    for (size_t t = 0; t < tokens.size(); ++t) {
        const bool continues = t > 0 && int(t) != boundary && is_continuation(tokens[t]) &&
                               !is_special_token(tokens[t - 1], TokenFamily::WordPiece);
        if (!continues) ++word;
        word_of_token[t] = word;
    }
}

// Words of one run of ordinary byte-level tokens [first, last): the tokens' bytes are joined and
// split again by GPT-2's pre-tokenizer; a token belongs to the piece its first byte lies in, and
// the run's words are numbered from `next_word`. Returns the next free word number.
int group_byte_level_run(std::span<const std::string> tokens, size_t first, size_t last,
                         int next_word, std::vector<int>& word_of_token) {
    std::string text;
    std::vector<size_t> starts;  // (last - first): each token's first byte in `text`
    for (size_t t = first; t < last; ++t) {
        starts.push_back(text.size());
        text += gpt2_token_bytes(utf8::sanitize(tokens[t]));
    }
    // Truncation can cut a character between tokens, and saved maps' token lists may start or
    // end anywhere: each byte of an invalid sequence becomes '?', which keeps every offset and
    // falls in the same pre-tokenizer class as the U+FFFD HF would see.
    text = utf8::replace_invalid_bytes(text, '?');
    const std::vector<std::string_view> pieces = gpt2_pretokenize(text);
    size_t piece = 0;  // the piece holding the current token's first byte
    size_t piece_end = pieces.empty() ? text.size() : pieces.front().size();
    size_t previous_piece = 0;
    for (size_t t = first; t < last; ++t) {
        const size_t start = starts[t - first];
        // An empty token (no bytes) goes with the token after it (at the end: the one before).
        while (piece + 1 < pieces.size() && start >= piece_end) {
            ++piece;
            piece_end += pieces[piece].size();
        }
        if (t == first || piece != previous_piece) ++next_word;
        word_of_token[t] = next_word - 1;
        previous_piece = piece;
    }
    return next_word;
}

void group_byte_level(std::span<const std::string> tokens, int boundary,
                      std::vector<int>& word_of_token) {
    int next_word = 0;
    size_t t = 0;
    while (t < tokens.size()) {
        if (is_special_token(tokens[t], TokenFamily::ByteLevel)) {
            word_of_token[t++] = next_word++;
            continue;
        }
        size_t end = t + 1;
        while (end < tokens.size() && int(end) != boundary &&
               !is_special_token(tokens[end], TokenFamily::ByteLevel))
            ++end;
        next_word = group_byte_level_run(tokens, t, end, next_word, word_of_token);
        t = end;
    }
}

// Checks that word_of_token is runs of consecutive tokens covering words 0..n_words-1.
void check_word_runs(std::span<const int> word_of_token, int seq, int n_words) {
    if (seq < 0 || n_words < 0 || int(word_of_token.size()) != seq)
        throw Error("merge_words: word_of_token has " + std::to_string(word_of_token.size()) +
                    " entries for " + std::to_string(seq) + " tokens (expected one per token)");
    if (seq == 0) {
        if (n_words != 0)
            throw Error("merge_words: no tokens, but " + std::to_string(n_words) +
                        " words (expected 0)");
        return;
    }
    int previous = -1;
    for (int t = 0; t < seq; ++t) {
        const int w = word_of_token[size_t(t)];
        if (w != previous && w != previous + 1)
            throw Error("merge_words: token " + std::to_string(t) + " is in word " +
                        std::to_string(w) + " after word " + std::to_string(previous) +
                        " (expected words as runs of consecutive tokens, numbered from 0)");
        previous = w;
    }
    if (previous + 1 != n_words)
        throw Error("merge_words: the tokens form " + std::to_string(previous + 1) +
                    " words, not " + std::to_string(n_words));
}

}  // namespace

TokenFamily family_of_model_type(std::string_view model_type) {
    if (model_type == "bert" || model_type == "distilbert") return TokenFamily::WordPiece;
    if (model_type == "gpt2" || model_type == "roberta") return TokenFamily::ByteLevel;
    throw Error("word-level maps: no word rule for model_type '" + std::string(model_type) +
                    "' (expected gpt2, roberta, bert or distilbert)",
                Status::Unsupported);
}

TokenFamily infer_family(std::span<const std::string> tokens) {
    for (const std::string& token : tokens)
        if (token == "[CLS]" || token == "[SEP]" ||
            (is_continuation(token) && token[kContinuation.size()] != '#'))
            return TokenFamily::WordPiece;
    for (const std::string& token : tokens)
        if (has_byte_level_stand_in(token) || token == "<s>" || token == "</s>" ||
            token == "<|endoftext|>")
            return TokenFamily::ByteLevel;
    return TokenFamily::WordPiece;
}

bool is_special_token(std::string_view token, TokenFamily family) {
    if (family == TokenFamily::WordPiece)
        return std::find(kWordPieceSpecials.begin(), kWordPieceSpecials.end(), token) !=
               kWordPieceSpecials.end();
    return std::find(kByteLevelSpecials.begin(), kByteLevelSpecials.end(), token) !=
           kByteLevelSpecials.end();
}

WordGroups group_words(std::span<const std::string> tokens, TokenFamily family, int boundary) {
    WordGroups groups;
    groups.word_of_token.assign(tokens.size(), 0);
    if (family == TokenFamily::WordPiece)
        group_wordpiece(tokens, boundary, groups.word_of_token);
    else
        group_byte_level(tokens, boundary, groups.word_of_token);
    for (size_t t = 0; t < tokens.size(); ++t) {
        const size_t word = size_t(groups.word_of_token[t]);
        if (word == groups.labels.size()) {
            groups.labels.push_back(tokens[t]);
        } else if (family == TokenFamily::WordPiece && is_continuation(tokens[t])) {
            groups.labels[word] += tokens[t].substr(kContinuation.size());
        } else {
            groups.labels[word] += tokens[t];
        }
    }
    return groups;
}

void merge_words_into(std::span<const float> maps, int n_maps, int seq,
                      std::span<const int> word_of_token, int n_words, std::span<float> out) {
    check_word_runs(word_of_token, seq, n_words);
    const size_t S = size_t(seq), W = size_t(n_words);
    if (n_maps < 0 || maps.size() != size_t(n_maps) * S * S)
        throw Error("merge_words: " + std::to_string(maps.size()) + " values for " +
                    std::to_string(n_maps) + " maps of " + std::to_string(seq) + " x " +
                    std::to_string(seq));
    if (out.size() != size_t(n_maps) * W * W)
        throw Error("merge_words: output holds " + std::to_string(out.size()) +
                    " values, expected " + std::to_string(size_t(n_maps) * W * W));
    // Words as token ranges [word_start[w], word_start[w + 1]).
    std::vector<size_t> word_start(W + 1, S);
    for (size_t t = S; t-- > 0;) word_start[size_t(word_of_token[t])] = t;
    for (size_t m = 0; m < size_t(n_maps); ++m) {
        const float* map = maps.data() + m * S * S;  // (S, S)
        float* merged = out.data() + m * W * W;      // (W, W)
        std::fill(merged, merged + W * W, 0.0f);
        for (size_t a = 0; a < W; ++a) {
            float* merged_row = merged + a * W;
            // Sum over the word's rows, then over each word's columns (contiguous runs).
            for (size_t i = word_start[a]; i < word_start[a + 1]; ++i) {
                const float* row = map + i * S;
                for (size_t b = 0; b < W; ++b) {
                    float received = 0.0f;
                    for (size_t j = word_start[b]; j < word_start[b + 1]; ++j) received += row[j];
                    merged_row[b] += received;
                }
            }
            const float mean = 1.0f / float(word_start[a + 1] - word_start[a]);
            for (size_t b = 0; b < W; ++b) merged_row[b] *= mean;
        }
    }
}

std::vector<float> merge_words(std::span<const float> maps, int n_maps, int seq,
                               std::span<const int> word_of_token, int n_words) {
    std::vector<float> out(size_t(std::max(n_maps, 0)) * size_t(std::max(n_words, 0)) *
                           size_t(std::max(n_words, 0)));
    merge_words_into(maps, n_maps, seq, word_of_token, n_words, out);
    return out;
}

}  // namespace headmap::words
