// GPT-2 byte-level BPE, exactly as Hugging Face's GPT2TokenizerFast (add_prefix_space=false).
//
// encode():
//   1. Invalid UTF-8 is replaced by U+FFFD per maximal invalid subsequence, as Python's
//      bytes.decode("utf-8", errors="replace") does (so the ids equal HF's ids for that string).
//   2. Added tokens (<|endoftext|>, and tokenizer.json's added_tokens) are split out first,
//      leftmost-longest, and map straight to their ids; they are never merged with neighbours.
//   3. Each remaining segment is split by GPT-2's pre-tokenizer pattern (hand-written matcher
//      over generated Unicode tables, see gpt2_pretokenize.h), each piece is mapped byte by
//      byte to GPT-2's printable "byte-to-unicode" alphabet and merged by BPE merge rank
//      (lowest rank first, leftmost first on ties, like HF's tokenizers).
// decode() concatenates the tokens' bytes. The result is returned as raw bytes even when it is
// not valid UTF-8 (e.g. ids that split a multi-byte character); HF would substitute U+FFFD.
//
// A Gpt2Tokenizer is immutable after loading: encode/decode are const and safe to call from
// several threads at once. Copies share the loaded tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer_files.h"

namespace headmap {

// A special token the tokenizer class registers when its vocab.json holds it.
struct SpecialToken {
    std::string_view content;
    bool lstrip = false;  // swallows the whitespace before it
};
// GPT2TokenizerFast registers <|endoftext|>; RobertaTokenizer(Fast) registers these five. Built
// from vocab.json + merges.txt, transformers 5 gives <mask> lstrip=False ("is <mask>" keeps the
// space as its own token); a tokenizer.json's own lstrip flags (roberta-base: true) are honoured.
inline constexpr SpecialToken kGpt2SpecialTokens[] = {{"<|endoftext|>"}};
inline constexpr SpecialToken kRobertaSpecialTokens[] = {
    {"<s>"}, {"<pad>"}, {"</s>"}, {"<unk>"}, {"<mask>"}};

// The bytes a vocabulary string stands for in GPT-2's byte-level alphabet ("Ġworld" -> " world").
// A string with a character outside the alphabet (an added token) is its own bytes, as in HF's
// ByteLevel decoder. `token` must be valid UTF-8 (utf8::sanitize it first if unsure).
std::string gpt2_token_bytes(std::string_view token);

class Gpt2Tokenizer {
  public:
    // tokenizer.json if `files` has it, else vocab.json + merges.txt with `specials`. Throws
    // headmap::Error naming the missing or malformed file.
    static Gpt2Tokenizer from_files(const TokenizerFiles& files,
                                    std::span<const SpecialToken> specials = kGpt2SpecialTokens);
    // vocab.json + merges.txt (first line "#version: ..." skipped); each of `specials` found in
    // the vocab is registered as an added token, as the tokenizer classes do.
    static Gpt2Tokenizer from_vocab_merges(
        const TokenizerText& vocab_json, const TokenizerText& merges_txt,
        std::span<const SpecialToken> specials = kGpt2SpecialTokens);
    // tokenizer.json: model.vocab, model.merges ("a b" strings or ["a", "b"] pairs) and
    // added_tokens. Configurations this class would not reproduce (a normalizer, a pre-tokenizer
    // other than ByteLevel without prefix space, lstrip/rstrip/single_word added tokens) are
    // rejected with headmap::Error rather than silently tokenized differently.
    static Gpt2Tokenizer from_tokenizer_json(const TokenizerText& tokenizer_json);

    // Invalid UTF-8 in `text` is replaced by U+FFFD per maximal invalid subsequence, as Python's
    // bytes.decode("utf-8", errors="replace") does, before tokenizing.
    std::vector<int32_t> encode(std::string_view text) const;
    // The first byte offset b >= from (0 < b < text.size()) where the text can be cut without
    // changing its ids: encode(text) == encode(text[:b]) + encode(text[b:]); npos when none.
    // Lets truncation encode a long text piece by piece and stop once it has enough ids.
    std::size_t next_cut(std::string_view text, std::size_t from) const;
    std::string decode(std::span<const int32_t> ids) const;         // ids -> bytes (see above)
    std::string token_string(int32_t id) const;                     // vocab string, e.g. "Ġworld"
    std::string token_text(int32_t id) const;                       // decoded bytes, e.g. " world"
    std::optional<int32_t> token_id(std::string_view token) const;  // vocab or added token
    int vocab_size() const;  // highest id + 1, added tokens included (50257 for GPT-2)

  private:
    struct Impl;
    const Impl& impl() const;  // throws headmap::Error on a default-constructed tokenizer
    std::shared_ptr<const Impl> impl_;
};

}  // namespace headmap
