// BERT WordPiece tokenizer, exactly as Hugging Face's BertTokenizerFast (tokenizers 0.23.3,
// transformers 5.23.0).
//
// encode():
//   1. Invalid UTF-8 is replaced by U+FFFD per maximal invalid subsequence, as Python's
//      bytes.decode("utf-8", errors="replace") does (clean_text later drops U+FFFD).
//   2. Added tokens ([PAD] [UNK] [CLS] [SEP] [MASK], or tokenizer.json's added_tokens) are split
//      out of the raw text first, leftmost-longest, case-sensitively, and map straight to their
//      ids; the whitespace around them is left to the neighbouring text ("[cls]" is not special).
//   3. Every other segment is normalized and pre-tokenized (tokenizer/bert_normalizer.h).
//   4. Each word becomes greedy longest-match-first WordPiece pieces ("##" for continuations);
//      a word of more than max_input_chars_per_word code points, or one that cannot be pieced
//      completely, becomes a single unk_token.
// The ids come WITHOUT [CLS]/[SEP]; adding them is the caller's business.
//
// A WordPieceTokenizer is immutable after loading: encode() is const and safe to call from
// several threads at once. Copies share the loaded tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_files.h"

namespace headmap {

struct WordPieceOptions {
    bool lowercase = true;              // do_lower_case
    std::optional<bool> strip_accents;  // nullopt: follow `lowercase` (HF semantics)
    bool clean_text = true;
    bool handle_chinese_chars = true;
    std::string unk_token = "[UNK]";
    std::string continuing_prefix = "##";
    int max_input_chars_per_word = 100;
    // Registered by from_vocab_txt as added tokens after unk_token, in this order (HF's: sep, pad,
    // cls, mask), with their vocabulary ids; one the vocabulary lacks gets a new id after it, as
    // in HF. (from_tokenizer_json ignores this: tokenizer.json lists its added tokens.)
    std::vector<std::string> special_tokens = {"[SEP]", "[PAD]", "[CLS]", "[MASK]"};
};

class WordPieceTokenizer {
  public:
    // tokenizer.json if `files` has it; else vocab.txt plus tokenizer_config.json (do_lower_case,
    // strip_accents, tokenize_chinese_chars; do_lower_case defaults to true when absent).
    // Like transformers' AutoTokenizer, when tokenizer_config.json names a BERT tokenizer class
    // (BertTokenizer, DistilBertTokenizer, ...Fast), its settings replace tokenizer.json's
    // normalizer (clean_text on, do_lower_case and tokenize_chinese_chars default true).
    // Throws headmap::Error naming the missing/malformed file.
    static WordPieceTokenizer from_files(const TokenizerFiles& files);
    // vocab.txt: one token per line, id = line number (from 0); trailing whitespace is trimmed
    // and a repeated token keeps its last line, as HF's WordPiece::read_file does.
    static WordPieceTokenizer from_vocab_txt(const TokenizerText& vocab_txt,
                                             const WordPieceOptions& options);
    // model.type "WordPiece", normalizer BertNormalizer (or null), pre_tokenizer BertPreTokenizer;
    // other configurations (and added tokens with normalized/lstrip/rstrip/single_word set) are
    // rejected with headmap::Error rather than tokenized differently. truncation/padding
    // sections are ignored (transformers ignores them too for plain calls).
    static WordPieceTokenizer from_tokenizer_json(const TokenizerText& tokenizer_json);

    // The ids of `text` WITHOUT [CLS]/[SEP].
    std::vector<int32_t> encode(std::string_view text) const;
    // The first byte offset b >= from (0 < b < text.size()) where the text can be cut without
    // changing its ids: encode(text) == encode(text[:b]) + encode(text[b:]); npos when none.
    std::size_t next_cut(std::string_view text, std::size_t from) const;
    std::optional<int32_t> token_id(std::string_view token) const;  // vocab or added token
    std::string token_string(int32_t id) const;  // e.g. "##ing", "[CLS]"; throws if unused
    int vocab_size() const;                      // highest id + 1
    const WordPieceOptions& options() const;     // strip_accents resolved (never nullopt)

  private:
    struct Impl;
    const Impl& impl() const;  // throws headmap::Error on a default-constructed tokenizer
    std::shared_ptr<const Impl> impl_;
};

}  // namespace headmap
