#include "tokenizer/token_tables.h"

#include <algorithm>
#include <charconv>

#include "headmap/error.hpp"
#include "tokenizer/utf8.h"

namespace headmap {

int32_t checked_token_id(int64_t value, std::string_view text_of_value, std::string_view token,
                         const std::string& where) {
    if (value < 0 || value > kMaxTokenId) {
        throw Error(where + ": token \"" + std::string(token) + "\" has id " +
                    std::string(text_of_value) + ", expected an integer in 0.." +
                    std::to_string(kMaxTokenId));
    }
    return static_cast<int32_t>(value);
}

namespace {

// A one-pass reader of the JSON subset vocab.json is: an object of strings to integers. Anything
// else is an error naming the line and column, in the words nlohmann's parser would use.
class VocabReader {
  public:
    VocabReader(std::string_view text, const std::string& where) : text_(text), where_(where) {}

    TokenMap read() {
        TokenMap vocab;
        vocab.reserve(text_.size() / 16);  // GPT-2: ~21 bytes per entry
        skip_space();
        expect('{', "'{' (vocab.json is one object of token strings to ids)");
        skip_space();
        if (peek() == '}') {
            ++pos_;
        } else {
            std::string token;
            for (;;) {
                skip_space();
                read_string(token);
                skip_space();
                expect(':', "':' after a token string");
                skip_space();
                const int32_t id = read_id(token);
                vocab.insert_or_assign(token, id);
                skip_space();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                expect('}', "',' or '}' after an id");
                break;
            }
        }
        skip_space();
        if (pos_ != text_.size()) fail("the end of the file after the object");
        return vocab;
    }

  private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\r' || text_[pos_] == '\t'))
            ++pos_;
    }

    [[noreturn]] void fail(const std::string& expected) const {
        const size_t at = std::min(pos_, text_.size());
        const size_t line = 1 + size_t(std::count(text_.begin(), text_.begin() + at, '\n'));
        const size_t line_start = text_.rfind('\n', at == 0 ? 0 : at - 1);
        const size_t column =
            at - (line_start == std::string_view::npos || at == 0 ? 0 : line_start + 1) + 1;
        const std::string found =
            at >= text_.size() ? "the end of the file" : "'" + std::string(1, text_[at]) + "'";
        throw Error(where_ + " is not a vocabulary (line " + std::to_string(line) + " column " +
                    std::to_string(column) + "): found " + found + ", expected " + expected);
    }

    void expect(char c, const char* what) {
        if (peek() != c) fail(what);
        ++pos_;
    }

    unsigned hex4() {
        if (text_.size() - pos_ < 4) fail("four hex digits after \\u");
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = text_[pos_];
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) fail("four hex digits after \\u");
            value = value * 16 + unsigned(digit);
            ++pos_;
        }
        return value;
    }

    void read_string(std::string& out) {
        out.clear();
        expect('"', "a token string");
        bool non_ascii = false;
        for (;;) {
            // Copy the run up to the next quote, backslash or control byte in one go.
            size_t end = pos_;
            while (end < text_.size() && text_[end] != '"' && text_[end] != '\\' &&
                   static_cast<unsigned char>(text_[end]) >= 0x20) {
                non_ascii |= static_cast<unsigned char>(text_[end]) >= 0x80;
                ++end;
            }
            out.append(text_.data() + pos_, end - pos_);
            pos_ = end;
            if (pos_ >= text_.size()) fail("'\"' to close the string");
            const char c = text_[pos_++];
            if (c == '"') break;
            if (c != '\\') {
                --pos_;
                fail("no control character inside a string (escape it)");
            }
            const char escaped = peek();
            ++pos_;
            switch (escaped) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    char32_t code_point = hex4();
                    if (code_point >= 0xDC00 && code_point <= 0xDFFF)
                        fail("a high surrogate before a low one (\\uDC00-\\uDFFF alone)");
                    if (code_point >= 0xD800 && code_point <= 0xDBFF) {
                        if (text_.substr(pos_, 2) != "\\u") fail("a low surrogate \\uDC00-\\uDFFF");
                        pos_ += 2;
                        const unsigned low = hex4();
                        if (low < 0xDC00 || low > 0xDFFF) fail("a low surrogate \\uDC00-\\uDFFF");
                        code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
                    }
                    utf8::append_code_point(out, code_point);
                    break;
                }
                default:
                    --pos_;
                    fail("an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX");
            }
        }
        if (non_ascii && utf8::sanitize(out) != out) {
            --pos_;
            fail("valid UTF-8 in the string before this quote");
        }
    }

    int32_t read_id(const std::string& token) {
        const size_t start = pos_;
        if (peek() == '-') ++pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
        const bool is_integer = pos_ > start && text_[pos_ - 1] != '-' && peek() != '.' &&
                                peek() != 'e' && peek() != 'E';
        // Extend over what a JSON value could be, to quote it whole in the message.
        size_t end = pos_;
        while (end < text_.size() && end - start < 40 && text_[end] != ',' && text_[end] != '}' &&
               text_[end] != '\n')
            ++end;
        const std::string_view written = text_.substr(start, end - start);
        int64_t value = -1;
        if (is_integer) {
            const auto [ptr, ec] =
                std::from_chars(text_.data() + start, text_.data() + pos_, value);
            if (ec != std::errc() || ptr != text_.data() + pos_) value = -1;  // out of int64 range
        }
        if (!is_integer || value < 0) {
            pos_ = start;
            if (!is_integer && written.empty()) fail("an integer id");
        }
        return checked_token_id(value, written, token, where_);
    }

    std::string_view text_;
    const std::string& where_;
    size_t pos_ = 0;
};

}  // namespace

void TokenMap::reserve(size_t entries) {
    entries_.reserve(entries);
    size_t slots = 16;
    while (slots < 2 * entries) slots *= 2;
    if (slots <= slots_.size()) return;
    slots_.assign(slots, 0);
    for (size_t i = 0; i < entries_.size(); ++i)
        slots_[slot_of(key(entries_[i]), hash_of(key(entries_[i])))] = uint32_t(i + 1);
}

size_t TokenMap::slot_of(std::string_view token, uint64_t hash) const {
    const size_t mask = slots_.size() - 1;
    const auto tag = uint32_t(hash >> 32);
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
        const uint32_t index_plus_1 = slots_[slot];
        if (index_plus_1 == 0) return slot;
        const Entry& entry = entries_[index_plus_1 - 1];
        if (entry.tag == tag && key(entry) == token) return slot;
    }
}

void TokenMap::grow() {
    reserve(std::max<size_t>(16, entries_.size() * 2));
}

TokenMap::Entry& TokenMap::insert(std::string_view token) {
    if (2 * (entries_.size() + 1) > slots_.size()) grow();
    if (bytes_.size() + token.size() > UINT32_MAX || entries_.size() >= size_t(INT32_MAX))
        throw Error("a vocabulary over 4 GiB of token text or 2^31 tokens", Status::OutOfRange);
    const uint64_t hash = hash_of(token);
    uint32_t& slot = slots_[slot_of(token, hash)];
    if (slot != 0) return entries_[slot - 1];
    entries_.push_back({uint32_t(hash >> 32), uint32_t(bytes_.size()), uint32_t(token.size()), -1});
    bytes_.append(token);
    slot = uint32_t(entries_.size());
    return entries_.back();
}

const int32_t* TokenMap::find(std::string_view token) const {
    if (slots_.empty()) return nullptr;
    const uint32_t slot = slots_[slot_of(token, hash_of(token))];
    return slot == 0 ? nullptr : &entries_[slot - 1].id;
}

void TokenMap::insert_or_assign(std::string_view token, int32_t id) {
    insert(token).id = id;
}

void TokenMap::try_emplace(std::string_view token, int32_t id) {
    Entry& entry = insert(token);
    if (entry.id < 0) entry.id = id;
}

TokenMap parse_vocab_json(std::string_view json_text, const std::string& where) {
    return VocabReader(json_text, where).read();
}

void IdToToken::build(const std::vector<std::pair<int32_t, std::string_view>>& entries) {
    dense_.clear();
    sparse_.clear();
    int64_t highest = -1;
    for (const auto& entry : entries) highest = std::max<int64_t>(highest, entry.first);
    size_ = static_cast<int32_t>(highest + 1);
    // Dense while the table stays within a small multiple of the entries themselves.
    if (highest < 2 * int64_t(entries.size()) + 1024) {
        dense_.resize(size_t(size_));
        for (const auto& [id, token] : entries) dense_[size_t(id)] = token;
    } else {
        sparse_.reserve(entries.size());
        for (const auto& [id, token] : entries) sparse_.insert_or_assign(id, token);
    }
}

const std::string_view* IdToToken::find(int32_t id) const {
    if (id < 0 || id >= size_) return nullptr;
    if (!dense_.empty()) {
        const std::string_view& token = dense_[size_t(id)];
        return token.data() ? &token : nullptr;
    }
    const auto found = sparse_.find(id);
    return found == sparse_.end() ? nullptr : &found->second;
}

}  // namespace headmap
