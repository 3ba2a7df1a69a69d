#include "tokenizer/gpt2_bpe.h"

#include <algorithm>
#include <array>
#include <optional>
#include <queue>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "headmap/error.hpp"
#include "tokenizer/added_tokens.h"
#include "tokenizer/gpt2_pretokenize.h"
#include "tokenizer/token_tables.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace headmap {

namespace {

using Json = nlohmann::json;
using tokenizer_files::json_token_id;
using tokenizer_files::parse_json;
using tokenizer_files::quoted;

// GPT-2's reversible byte -> printable character table: printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100.. in byte order, so every token is printable text.
struct ByteAlphabet {
    std::array<std::string, 256> byte_to_utf8;  // byte -> UTF-8 of its stand-in character
    std::array<int, 0x144> char_to_byte;        // stand-in code point -> byte, -1 if none

    ByteAlphabet() {
        char_to_byte.fill(-1);
        char32_t next_extra = 0x100;
        for (int byte = 0; byte < 256; ++byte) {
            const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
                                   (byte >= 0xAE && byte <= 0xFF);
            const char32_t stand_in = printable ? static_cast<char32_t>(byte) : next_extra++;
            utf8::append_code_point(byte_to_utf8[byte], stand_in);
            char_to_byte[stand_in] = byte;
        }
    }

    // Bytes a token stands for. Like HF's ByteLevel decoder, a token containing a character
    // outside the alphabet (an added token such as "<extra token>") contributes its own UTF-8.
    std::string token_bytes(const std::string& token) const {
        std::string bytes;
        for (const auto& decoded : utf8::decode_valid(token)) {
            const char32_t c = decoded.code_point;
            if (c >= char_to_byte.size() || char_to_byte[c] < 0) return token;
            bytes.push_back(static_cast<char>(char_to_byte[c]));
        }
        return bytes;
    }
};

const ByteAlphabet& byte_alphabet() {
    static const ByteAlphabet alphabet;  // thread-safe initialisation (C++11 magic statics)
    return alphabet;
}

std::uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
}

struct MergeResult {
    int32_t rank;
    int32_t merged_id;
};

// Pair key -> merge, open addressing (no allocation per merge; looked up once per BPE step).
class MergeTable {
  public:
    void reserve(size_t merges) {
        size_t size = 16;
        while (size < 2 * merges) size *= 2;
        slots_.assign(size, Slot{});
        used_ = 0;
    }
    // A repeated pair keeps its last rank, as HF's merge map does.
    void assign(uint64_t key, MergeResult merge) {
        if (2 * (used_ + 1) > slots_.size()) grow();
        Slot& slot = slots_[find_slot(key)];
        if (slot.merge.rank < 0) ++used_;
        slot = {key, merge};
    }
    const MergeResult* find(uint64_t key) const {
        if (slots_.empty()) return nullptr;
        const Slot& slot = slots_[find_slot(key)];
        return slot.merge.rank < 0 ? nullptr : &slot.merge;
    }

  private:
    struct Slot {
        uint64_t key = 0;
        MergeResult merge{-1, -1};  // rank -1: empty
    };
    size_t find_slot(uint64_t key) const {
        const size_t mask = slots_.size() - 1;
        for (size_t slot = (key * 0x9E3779B97F4A7C15ull) >> 20 & mask;; slot = (slot + 1) & mask)
            if (slots_[slot].merge.rank < 0 || slots_[slot].key == key) return slot;
    }
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        reserve(std::max<size_t>(16, old.size()));
        for (const Slot& slot : old)
            if (slot.merge.rank >= 0) assign(slot.key, slot.merge);
    }
    std::vector<Slot> slots_;
    size_t used_ = 0;
};

// Length of `text` without its trailing White_Space characters (Rust's trim_end, which HF's
// added-token matcher uses for lstrip).
std::size_t trimmed_end(std::string_view text) {
    std::size_t end = text.size();
    while (end > 0) {
        std::size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        const auto decoded = utf8::decode_valid(text.substr(start, end - start));
        if (decoded.size() != 1 || !unicode::is_white_space(decoded[0].code_point)) break;
        end = start;
    }
    return end;
}

// One line of merges.txt or one entry of tokenizer.json's model.merges, as views into the file
// (or the parsed JSON); `where` + `line_prefix` + `number` say where it came from, built only
// for a message (50k location strings were a third of the GPT-2 load time).
struct MergeEntry {
    std::string_view left;
    std::string_view right;
    size_t number;  // merges.txt line (from 1) or model.merges index (from 0)
};

struct MergeList {
    std::vector<MergeEntry> entries;
    std::string where;        // e.g. "'<dir>/merges.txt'"
    const char* line_prefix;  // " line " or " model.merges["
    const char* line_suffix;  // "" or "]"

    std::string location(const MergeEntry& entry) const {
        return where + line_prefix + std::to_string(entry.number) + line_suffix;
    }
};

// An optional boolean field (absent or null: false); any other type is an error naming it.
bool json_flag(const Json& object, const char* key, const std::string& where) {
    if (!object.contains(key) || object[key].is_null()) return false;
    if (!object[key].is_boolean())
        throw Error(where + ": \"" + key + "\" is " + object[key].dump().substr(0, 100) +
                    ", expected true or false");
    return object[key].get<bool>();
}

TokenMap parse_vocab(const Json& vocab_json, const std::string& where) {
    if (!vocab_json.is_object()) {
        throw Error(where + ": expected a JSON object mapping token strings to integer ids");
    }
    TokenMap vocab;
    vocab.reserve(vocab_json.size());
    for (const auto& [token, id] : vocab_json.items())
        vocab.insert_or_assign(token, json_token_id(id, token, where));
    return vocab;
}

}  // namespace

struct Gpt2Tokenizer::Impl {
    TokenMap vocab;         // model vocabulary
    IdToToken id_to_token;  // model + added tokens (views into vocab and added)
    MergeTable merges;
    std::array<int32_t, 256> byte_token_id{};  // id of each byte's single-character token, or -1
    AddedTokenMatcher added;
    bool ignore_merges = false;  // tokenizer.json option: a word found in the vocab is one token

    Impl(TokenMap model_vocab, const MergeList& merge_list,
         std::span<const AddedToken> added_tokens)
        : vocab(std::move(model_vocab)), added(added_tokens) {
        std::vector<std::pair<int32_t, std::string_view>> ids;
        ids.reserve(vocab.size() + added.tokens().size());
        for (const auto& [token, id] : vocab) ids.emplace_back(id, token);
        for (const AddedToken& token : added.tokens()) ids.emplace_back(token.id, token.content);
        id_to_token.build(ids);
        const ByteAlphabet& alphabet = byte_alphabet();
        for (int byte = 0; byte < 256; ++byte) {
            const int32_t* found = vocab.find(alphabet.byte_to_utf8[byte]);
            byte_token_id[byte] = found ? *found : -1;
        }
        merges.reserve(merge_list.entries.size());
        std::string joined;
        for (std::size_t rank = 0; rank < merge_list.entries.size(); ++rank) {
            const MergeEntry& entry = merge_list.entries[rank];
            joined.assign(entry.left).append(entry.right);
            const int32_t left = model_id(entry.left, merge_list, entry, "merge token");
            const int32_t right = model_id(entry.right, merge_list, entry, "merge token");
            const int32_t merged = model_id(joined, merge_list, entry, "merged token");
            // A repeated pair keeps its last rank, as HF's merge map does.
            merges.assign(pair_key(left, right), {static_cast<int32_t>(rank), merged});
        }
    }
    Impl(const Impl&) = delete;  // id_to_token points into vocab

    int32_t model_id(std::string_view token, const MergeList& list, const MergeEntry& entry,
                     std::string_view role) const {
        const int32_t* found = vocab.find(token);
        if (!found) {
            throw Error(list.location(entry) + ": " + std::string(role) + " \"" +
                        std::string(token) + "\" is not in the vocabulary");
        }
        return *found;
    }

    std::string token_for(int32_t id) const {
        if (const std::string_view* token = id_to_token.find(id)) return std::string(*token);
        if (id < 0 || id >= id_to_token.size()) {
            throw Error("token id " + std::to_string(id) + " is out of range: the vocabulary has " +
                        std::to_string(id_to_token.size()) + " ids (0.." +
                        std::to_string(static_cast<long>(id_to_token.size()) - 1) + ")");
        }
        throw Error("token id " + std::to_string(id) + " has no token: the vocabulary (size " +
                    std::to_string(id_to_token.size()) + ") does not use this id");
    }

    // BPE over one pre-tokenized piece, the way HF's tokenizers does it: a linked list of
    // symbols and a min-heap of candidate merges ordered by (rank, position); stale heap entries
    // (a side already merged away) are skipped when popped. O(n log n) per piece.
    void encode_piece(std::string_view piece, std::vector<int32_t>& ids) const {
        const ByteAlphabet& alphabet = byte_alphabet();
        if (ignore_merges) {
            std::string word;
            for (char byte : piece) word += alphabet.byte_to_utf8[static_cast<unsigned char>(byte)];
            if (const int32_t* found = vocab.find(word)) {
                ids.push_back(*found);
                return;
            }
        }

        struct Symbol {
            int32_t id;
            int prev;
            int next;
            bool alive;
        };
        std::vector<Symbol> symbols;
        symbols.reserve(piece.size());
        for (char byte : piece) {
            const int32_t id = byte_token_id[static_cast<unsigned char>(byte)];
            if (id < 0) continue;  // no such byte token and no unk token: HF drops it too
            const int index = static_cast<int>(symbols.size());
            symbols.push_back({id, index - 1, index + 1, true});
        }
        if (symbols.empty()) return;
        symbols.back().next = -1;

        struct Candidate {
            int32_t rank;
            int position;  // index of the left symbol
            int32_t merged_id;
            bool operator>(const Candidate& other) const {
                return rank != other.rank ? rank > other.rank : position > other.position;
            }
        };
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> candidates;
        const auto push_candidate = [&](int left) {
            const int right = symbols[left].next;
            if (left < 0 || right < 0) return;
            const MergeResult* found = merges.find(pair_key(symbols[left].id, symbols[right].id));
            if (found) {
                candidates.push({found->rank, left, found->merged_id});
            }
        };
        for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push_candidate(i);

        while (!candidates.empty()) {
            const Candidate top = candidates.top();
            candidates.pop();
            Symbol& left = symbols[top.position];
            if (!left.alive || left.next < 0) continue;
            Symbol& right = symbols[left.next];
            const MergeResult* found = merges.find(pair_key(left.id, right.id));
            if (!found || found->merged_id != top.merged_id) continue;

            left.id = top.merged_id;
            right.alive = false;
            left.next = right.next;
            if (left.next >= 0) symbols[left.next].prev = top.position;
            if (left.prev >= 0) push_candidate(left.prev);
            push_candidate(top.position);
        }
        for (const Symbol& symbol : symbols) {
            if (symbol.alive) ids.push_back(symbol.id);
        }
    }

    void encode_segment(std::string_view segment, std::vector<int32_t>& ids) const {
        for (std::string_view piece : gpt2_pretokenize(segment)) encode_piece(piece, ids);
    }
};

Gpt2Tokenizer Gpt2Tokenizer::from_files(const TokenizerFiles& files,
                                        std::span<const SpecialToken> specials) {
    if (const auto json = files.text(&TokenizerFiles::tokenizer_json)) {
        return from_tokenizer_json(*json);
    }
    const auto vocab = files.text(&TokenizerFiles::vocab_json);
    const auto merges = files.text(&TokenizerFiles::merges_txt);
    if (vocab && merges) return from_vocab_merges(*vocab, *merges, specials);
    throw Error("no tokenizer files in '" + files.dir.string() +
                "': looked for tokenizer.json, or vocab.json and merges.txt");
}

Gpt2Tokenizer Gpt2Tokenizer::from_vocab_merges(const TokenizerText& vocab_json,
                                               const TokenizerText& merges_txt,
                                               std::span<const SpecialToken> specials) {
    TokenMap vocab = parse_vocab_json(vocab_json.text, quoted(vocab_json.path));

    MergeList merge_list{{}, quoted(merges_txt.path), " line ", ""};
    const std::string_view text = merges_txt.text;
    merge_list.entries.reserve(text.size() / 10);
    std::size_t line_start = 0;
    for (std::size_t line_number = 1; line_start < text.size(); ++line_number) {
        std::size_t line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos) line_end = text.size();
        std::string_view line = text.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line_number == 1 && line.starts_with("#version")) continue;
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string::npos) {
            throw Error(quoted(merges_txt.path) + " line " + std::to_string(line_number) +
                        ": expected two tokens separated by one space, got \"" + std::string(line) +
                        "\"");
        }
        merge_list.entries.push_back({line.substr(0, space), line.substr(space + 1), line_number});
    }

    std::vector<AddedToken> added;
    for (const SpecialToken& special : specials) {
        if (const int32_t* found = vocab.find(special.content))
            added.push_back({std::string(special.content), *found, special.lstrip});
    }
    Gpt2Tokenizer tokenizer;
    tokenizer.impl_ = std::make_shared<const Impl>(std::move(vocab), merge_list, added);
    return tokenizer;
}

Gpt2Tokenizer Gpt2Tokenizer::from_tokenizer_json(const TokenizerText& tokenizer_json) try {
    const Json root = parse_json(tokenizer_json);
    const std::string where = quoted(tokenizer_json.path);
    const auto reject = [&](const std::string& what) {
        throw Error(where + ": " + what + " is not supported (expected GPT-2 byte-level BPE)");
    };
    if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
        throw Error(where + ": expected a JSON object with a \"model\" object");
    }
    const Json& model = root["model"];
    if (model.contains("type") && model["type"] != "BPE") {
        reject("model type " + model["type"].dump());
    }
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        if (model.contains(affix) && model[affix].is_string() &&
            !model[affix].get<std::string>().empty()) {
            reject(std::string("model.") + affix + " " + model[affix].dump());
        }
    }
    if (root.contains("normalizer") && !root["normalizer"].is_null()) {
        reject("normalizer " + root["normalizer"].dump().substr(0, 200));
    }
    if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null()) {
        const Json& pre = root["pre_tokenizer"];
        const std::string pre_where = where + " pre_tokenizer";
        if (!pre.is_object() || !pre.contains("type") || pre["type"] != "ByteLevel") {
            reject("pre_tokenizer " + pre.dump().substr(0, 200));
        }
        if (json_flag(pre, "add_prefix_space", pre_where))
            reject("pre_tokenizer.add_prefix_space=true");
        if (pre.contains("use_regex") && !pre["use_regex"].is_null() &&
            !json_flag(pre, "use_regex", pre_where))
            reject("pre_tokenizer.use_regex=false");
    }
    if (!model.contains("vocab")) throw Error(where + ": model.vocab is missing");
    auto vocab = parse_vocab(model["vocab"], where + " model.vocab");

    MergeList merge_list{{}, where, " model.merges[", "]"};
    const Json no_merges = Json::array();
    const Json& merges = model.contains("merges") ? model["merges"] : no_merges;
    if (!merges.is_array()) throw Error(where + ": model.merges must be an array");
    merge_list.entries.reserve(merges.size());
    for (std::size_t index = 0; index < merges.size(); ++index) {
        const Json& merge = merges[index];
        if (merge.is_string()) {
            const std::string_view text = merge.get_ref<const std::string&>();
            const std::size_t space = text.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
                text.find(' ', space + 1) != std::string::npos) {
                throw Error(where + " model.merges[" + std::to_string(index) +
                            "]: expected \"left right\", got " + merge.dump());
            }
            merge_list.entries.push_back({text.substr(0, space), text.substr(space + 1), index});
        } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
                   merge[1].is_string()) {
            merge_list.entries.push_back({merge[0].get_ref<const std::string&>(),
                                          merge[1].get_ref<const std::string&>(), index});
        } else {
            throw Error(where + " model.merges[" + std::to_string(index) +
                        "]: expected a \"left right\" string or a [left, right] pair, got " +
                        merge.dump());
        }
    }

    std::vector<AddedToken> added;
    const Json no_added = Json::array();
    const Json& added_tokens = root.contains("added_tokens") && !root["added_tokens"].is_null()
                                   ? root["added_tokens"]
                                   : no_added;
    if (!added_tokens.is_array()) throw Error(where + ": added_tokens must be an array");
    for (std::size_t index = 0; index < added_tokens.size(); ++index) {
        const Json& token = added_tokens[index];
        const std::string entry = where + " added_tokens[" + std::to_string(index) + "]";
        if (!token.is_object() || !token.contains("content") || !token["content"].is_string() ||
            !token.contains("id")) {
            throw Error(entry +
                        ": expected an object with a string \"content\" and an integer "
                        "\"id\", got " +
                        token.dump().substr(0, 200));
        }
        const std::string& content = token["content"].get_ref<const std::string&>();
        const int32_t id = json_token_id(token["id"], content, entry);
        for (const char* flag : {"rstrip", "single_word"}) {
            if (json_flag(token, flag, entry)) reject(std::string("added token ") + flag + "=true");
        }
        added.push_back({content, id, json_flag(token, "lstrip", entry)});
    }

    auto impl = std::make_shared<Impl>(std::move(vocab), merge_list, added);
    impl->ignore_merges = json_flag(model, "ignore_merges", where + " model");
    Gpt2Tokenizer tokenizer;
    tokenizer.impl_ = std::move(impl);
    return tokenizer;
} catch (const nlohmann::json::exception& e) {  // a field of an unexpected JSON type
    throw Error(quoted(tokenizer_json.path) + ": " + e.what() +
                " (expected a GPT-2 byte-level BPE tokenizer.json)");
}

const Gpt2Tokenizer::Impl& Gpt2Tokenizer::impl() const {
    if (!impl_) throw Error("Gpt2Tokenizer used before loading: call from_*() first");
    return *impl_;
}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
    const Impl& self = impl();
    const std::string valid = utf8::sanitize(text);
    const std::string_view view = valid;
    std::vector<int32_t> ids;
    std::size_t segment_start = 0;
    for (const AddedTokenMatcher::Match& match : self.added.split(view)) {
        std::string_view before = view.substr(segment_start, match.start - segment_start);
        if (match.token->lstrip) before = before.substr(0, trimmed_end(before));
        self.encode_segment(before, ids);
        ids.push_back(match.token->id);
        segment_start = match.start + match.token->content.size();
    }
    self.encode_segment(view.substr(segment_start), ids);
    return ids;
}

std::size_t Gpt2Tokenizer::next_cut(std::string_view text, std::size_t from) const {
    // A space between two ASCII letters always starts a piece (" ?\p{L}+" matches there, and the
    // letters before it end theirs) and is a clean UTF-8 boundary. An added token could still
    // span it (if one contains a space) or swallow it (lstrip, starting right after it).
    const Impl& self = impl();
    if (self.added.any_contains(' ')) return std::string_view::npos;
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    for (std::size_t b = std::max<std::size_t>(from, 1); b + 1 < text.size(); ++b) {
        b = text.find(' ', b);
        if (b == std::string_view::npos || b + 1 >= text.size()) break;
        if (!letter(text[b - 1]) || !letter(text[b + 1])) continue;
        const AddedToken* next = self.added.longest_at(text, b + 1);
        if (next && next->lstrip) continue;
        return b;
    }
    return std::string_view::npos;
}

std::string Gpt2Tokenizer::decode(std::span<const int32_t> ids) const {
    std::string bytes;
    for (int32_t id : ids) bytes += byte_alphabet().token_bytes(impl().token_for(id));
    return bytes;
}

std::string Gpt2Tokenizer::token_string(int32_t id) const {
    return impl().token_for(id);
}

std::string gpt2_token_bytes(std::string_view token) {
    return byte_alphabet().token_bytes(std::string(token));
}

std::string Gpt2Tokenizer::token_text(int32_t id) const {
    return byte_alphabet().token_bytes(impl().token_for(id));
}

std::optional<int32_t> Gpt2Tokenizer::token_id(std::string_view token) const {
    if (const AddedToken* added = impl().added.find(token)) return added->id;
    if (const int32_t* found = impl().vocab.find(token)) return *found;
    return std::nullopt;
}

int Gpt2Tokenizer::vocab_size() const {
    return static_cast<int>(impl().id_to_token.size());
}

}  // namespace headmap
