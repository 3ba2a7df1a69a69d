// Added tokens (<|endoftext|>, [CLS], a tokenizer.json's added_tokens...) and the matcher that
// splits them out of raw text first, leftmost-longest, as Hugging Face's AddedVocabulary does.
//
// Why an automaton: trying every added token at every byte cost text length x token count (30k
// added tokens and a 100 KB text took 21 s). split() runs an Aho-Corasick automaton of the
// reversed tokens backwards over a window of the text, which gives the longest token starting at
// each byte in one pass, then walks forwards greedily. Linear in the text plus the tokens' bytes;
// windows of max(64 KiB, longest token) keep the working memory bounded.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace headmap {

struct AddedToken {
    std::string content;
    int32_t id = 0;
    bool lstrip = false;  // the match swallows the whitespace before it (RoBERTa's <mask>)
};

class AddedTokenMatcher {
  public:
    AddedTokenMatcher() = default;
    // Not copyable: the lookup tables point into tokens_ (a move keeps them valid).
    AddedTokenMatcher(const AddedTokenMatcher&) = delete;
    AddedTokenMatcher& operator=(const AddedTokenMatcher&) = delete;
    AddedTokenMatcher(AddedTokenMatcher&&) = default;
    AddedTokenMatcher& operator=(AddedTokenMatcher&&) = default;
    // Tokens with empty content never match; of tokens with equal content the first counts.
    explicit AddedTokenMatcher(std::span<const AddedToken> tokens);

    struct Match {
        size_t start;  // byte offset in the text
        const AddedToken* token;
    };
    // The added tokens of `text` in HF's split: scanning left to right, at each byte the longest
    // token starting there is taken (and the scan jumps past it); in order.
    std::vector<Match> split(std::string_view text) const;
    // The longest token starting exactly at `pos` (nullptr when none).
    const AddedToken* longest_at(std::string_view text, size_t pos) const;
    // The token whose content is `content` (nullptr when none).
    const AddedToken* find(std::string_view content) const;
    // Whether any token's content holds `byte` (a text cut at such a byte could split a match).
    bool any_contains(char byte) const { return contains_byte_[static_cast<unsigned char>(byte)]; }
    bool empty() const { return tokens_.empty(); }
    std::span<const AddedToken> tokens() const { return tokens_; }

  private:
    int32_t child(int32_t node, unsigned char byte) const;
    // For each byte of text[from, to): the index of the longest token starting there, or -1.
    void longest_starts(std::string_view text, size_t from, size_t to,
                        std::vector<int32_t>& longest) const;

    std::vector<AddedToken> tokens_;
    // The trie of the reversed contents: node 0 is the root (its edges in root_edges_, the
    // others' in edges_ keyed node << 8 | byte); fail_ the Aho-Corasick failure link; best_ the
    // longest token that is a suffix of the node's (reversed) string, or -1.
    std::array<int32_t, 256> root_edges_{};
    std::unordered_map<uint64_t, int32_t> edges_;
    std::vector<int32_t> fail_, best_;
    std::unordered_map<std::string_view, int32_t> by_content_;
    std::array<bool, 256> contains_byte_{};
    size_t longest_token_ = 0;
};

}  // namespace headmap
