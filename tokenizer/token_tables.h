// The tables both tokenizers build from their files, sized by the files and never by a number
// written in them:
//   TokenMap        token string -> id, looked up by std::string_view without allocating.
//   IdToToken       id -> token string; dense while the ids are (every real vocabulary), a hash
//                   map when a file declares few tokens with far-apart ids, so a 27-byte
//                   vocab.json with id 2^31-2 costs bytes, not gigabytes.
//   parse_vocab_json  a vocab.json object {"token": id, ...} parsed in one pass (no DOM: the
//                   GPT-2 vocabulary loads in ~2 ms instead of ~25 ms).
//   checked_token_id  the one rule for ids read from any file: an integer in 0..kMaxTokenId.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace headmap {

// Token string -> id in two flat arrays (the strings packed in one buffer, an open-addressing
// index of entries): no allocation per token, so the GPT-2 vocabulary and its 50k merges load in
// a few milliseconds. Keys are looked up as std::string_view. Iteration is in insertion order.
class TokenMap {
  public:
    void reserve(size_t entries);
    // The id of `token`, or nullptr.
    const int32_t* find(std::string_view token) const;
    bool contains(std::string_view token) const { return find(token) != nullptr; }
    void insert_or_assign(std::string_view token, int32_t id);  // a repeated token: the last id
    void try_emplace(std::string_view token, int32_t id);       // a repeated token: the first id
    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

    // (token, id) pairs; the views stay valid until the next insertion.
    class const_iterator {
      public:
        const_iterator(const TokenMap* map, size_t index) : map_(map), index_(index) {}
        std::pair<std::string_view, int32_t> operator*() const {
            const Entry& entry = map_->entries_[index_];
            return {map_->key(entry), entry.id};
        }
        const_iterator& operator++() {
            ++index_;
            return *this;
        }
        bool operator==(const const_iterator& other) const { return index_ == other.index_; }

      private:
        const TokenMap* map_;
        size_t index_;
    };
    const_iterator begin() const { return {this, 0}; }
    const_iterator end() const { return {this, entries_.size()}; }

  private:
    // Small on purpose: loading GPT-2 does ~200k lookups at random places, and each cache miss
    // costs more than the rest of the lookup (20-byte slots made the load 30% slower).
    struct Entry {
        uint32_t tag;             // the hash's high bits
        uint32_t offset, length;  // the key in bytes_
        int32_t id;
    };
    std::string_view key(const Entry& entry) const {
        return std::string_view(bytes_).substr(entry.offset, entry.length);
    }
    static uint64_t hash_of(std::string_view token) { return std::hash<std::string_view>{}(token); }
    // The slot holding `token` or the empty slot where it would go.
    size_t slot_of(std::string_view token, uint64_t hash) const;
    void grow();
    Entry& insert(std::string_view token);  // the entry for `token`, id -1 when new

    std::string bytes_;
    std::vector<Entry> entries_;
    // Entry index + 1 (0: empty); a power of two in size, at most half full.
    std::vector<uint32_t> slots_;
};

// Ids are int32 everywhere (the models' embedding rows); INT32_MAX itself is kept out so that
// "highest id + 1" (a vocabulary size) never overflows.
inline constexpr int64_t kMaxTokenId = INT32_MAX - 1;

// `value` as a token id, or headmap::Error "<where>: token "<token>" has id <value>, expected an
// integer in 0..2147483646". `text_of_value` is how the file wrote it (for the message).
int32_t checked_token_id(int64_t value, std::string_view text_of_value, std::string_view token,
                         const std::string& where);

// vocab.json's text: one JSON object of strings to non-negative integers. A repeated token keeps
// its last id (as Python's json and nlohmann do). Errors name `where`, the line and the column.
TokenMap parse_vocab_json(std::string_view json_text, const std::string& where);

class IdToToken {
  public:
    // The views must outlive this table (they point into the owner's TokenMap keys and added
    // tokens). A later entry for an id replaces an earlier one.
    void build(const std::vector<std::pair<int32_t, std::string_view>>& entries);
    // The token of `id`, or nullptr when no entry has it.
    const std::string_view* find(int32_t id) const;
    // Highest id + 1 (0 when empty): what HF reports as the vocabulary size.
    int32_t size() const { return size_; }

  private:
    std::vector<std::string_view> dense_;  // data() == nullptr: no token
    std::unordered_map<int32_t, std::string_view> sparse_;
    int32_t size_ = 0;
};

}  // namespace headmap
