#include "tokenizer/gpt2_bpe.h"

#include <algorithm>
#include <array>
#include <optional>
#include <queue>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "headmap/error.hpp"
#include "tokenizer/gpt2_pretokenize.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace headmap {

namespace {

using Json = nlohmann::json;
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

struct AddedToken {
    std::string content;
    int32_t id;
    bool lstrip = false;  // the match swallows the whitespace before it (RoBERTa's <mask>)
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

// One line of merges.txt or one entry of tokenizer.json's model.merges, with where it came from
// so errors can point at it.
struct MergeEntry {
    std::string left;
    std::string right;
    std::string location;  // e.g. "'merges.txt' line 12"
};

std::unordered_map<std::string, int32_t> parse_vocab(const Json& vocab_json,
                                                     const std::string& where) {
    if (!vocab_json.is_object()) {
        throw Error(where + ": expected a JSON object mapping token strings to integer ids");
    }
    std::unordered_map<std::string, int32_t> vocab;
    vocab.reserve(vocab_json.size());
    for (const auto& [token, id] : vocab_json.items()) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            id.get<std::int64_t>() > INT32_MAX) {
            throw Error(where + ": token \"" + token + "\" has id " + id.dump() +
                        ", expected a non-negative integer");
        }
        vocab.emplace(token, id.get<int32_t>());
    }
    return vocab;
}

}  // namespace

struct Gpt2Tokenizer::Impl {
    std::unordered_map<std::string, int32_t> vocab;       // model vocabulary
    std::vector<std::optional<std::string>> id_to_token;  // model + added tokens
    std::unordered_map<std::uint64_t, MergeResult> merges;
    std::array<int32_t, 256> byte_token_id{};  // id of each byte's single-character token, or -1
    std::vector<AddedToken> added_tokens;
    std::array<bool, 256> added_token_first_byte{};  // quick reject while scanning for them
    bool ignore_merges = false;  // tokenizer.json option: a word found in the vocab is one token

    Impl(std::unordered_map<std::string, int32_t> model_vocab,
         const std::vector<MergeEntry>& merge_list, std::vector<AddedToken> added)
        : vocab(std::move(model_vocab)), added_tokens(std::move(added)) {
        for (const auto& [token, id] : vocab) register_id(token, id);
        for (const auto& token : added_tokens) {
            register_id(token.content, token.id);
            if (!token.content.empty()) {
                added_token_first_byte[static_cast<unsigned char>(token.content[0])] = true;
            }
        }
        const ByteAlphabet& alphabet = byte_alphabet();
        for (int byte = 0; byte < 256; ++byte) {
            const auto found = vocab.find(alphabet.byte_to_utf8[byte]);
            byte_token_id[byte] = found == vocab.end() ? -1 : found->second;
        }
        merges.reserve(merge_list.size());
        for (std::size_t rank = 0; rank < merge_list.size(); ++rank) {
            const MergeEntry& entry = merge_list[rank];
            const int32_t left = model_id(entry.left, entry.location, "merge token");
            const int32_t right = model_id(entry.right, entry.location, "merge token");
            const int32_t merged =
                model_id(entry.left + entry.right, entry.location, "merged token");
            // A repeated pair keeps its last rank, as HF's merge map does.
            merges[pair_key(left, right)] = {static_cast<int32_t>(rank), merged};
        }
    }

    void register_id(const std::string& token, int32_t id) {
        if (static_cast<std::size_t>(id) >= id_to_token.size()) id_to_token.resize(id + 1);
        id_to_token[id] = token;
    }

    int32_t model_id(const std::string& token, const std::string& location,
                     std::string_view role) const {
        const auto found = vocab.find(token);
        if (found == vocab.end()) {
            throw Error(location + ": " + std::string(role) + " \"" + token +
                        "\" is not in the vocabulary");
        }
        return found->second;
    }

    const std::string& token_for(int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= id_to_token.size()) {
            throw Error("token id " + std::to_string(id) + " is out of range: the vocabulary has " +
                        std::to_string(id_to_token.size()) + " ids (0.." +
                        std::to_string(static_cast<long>(id_to_token.size()) - 1) + ")");
        }
        if (!id_to_token[id]) {
            throw Error("token id " + std::to_string(id) + " has no token: the vocabulary (size " +
                        std::to_string(id_to_token.size()) + ") does not use this id");
        }
        return *id_to_token[id];
    }

    // BPE over one pre-tokenized piece, the way HF's tokenizers does it: a linked list of
    // symbols and a min-heap of candidate merges ordered by (rank, position); stale heap entries
    // (a side already merged away) are skipped when popped. O(n log n) per piece.
    void encode_piece(std::string_view piece, std::vector<int32_t>& ids) const {
        const ByteAlphabet& alphabet = byte_alphabet();
        if (ignore_merges) {
            std::string word;
            for (char byte : piece) word += alphabet.byte_to_utf8[static_cast<unsigned char>(byte)];
            if (const auto found = vocab.find(word); found != vocab.end()) {
                ids.push_back(found->second);
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
            const auto found = merges.find(pair_key(symbols[left].id, symbols[right].id));
            if (found != merges.end()) {
                candidates.push({found->second.rank, left, found->second.merged_id});
            }
        };
        for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push_candidate(i);

        while (!candidates.empty()) {
            const Candidate top = candidates.top();
            candidates.pop();
            Symbol& left = symbols[top.position];
            if (!left.alive || left.next < 0) continue;
            Symbol& right = symbols[left.next];
            const auto found = merges.find(pair_key(left.id, right.id));
            if (found == merges.end() || found->second.merged_id != top.merged_id) continue;

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

    // Longest added token starting at `pos`, if any.
    const AddedToken* added_token_at(std::string_view text, std::size_t pos) const {
        if (!added_token_first_byte[static_cast<unsigned char>(text[pos])]) return nullptr;
        const AddedToken* longest = nullptr;
        for (const AddedToken& token : added_tokens) {
            if (!token.content.empty() && text.substr(pos).starts_with(token.content) &&
                (longest == nullptr || token.content.size() > longest->content.size())) {
                longest = &token;
            }
        }
        return longest;
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
    auto vocab = parse_vocab(parse_json(vocab_json), quoted(vocab_json.path));

    std::vector<MergeEntry> merge_list;
    std::istringstream lines{std::string(merges_txt.text)};
    std::string line;
    for (std::size_t line_number = 1; std::getline(lines, line); ++line_number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line_number == 1 && line.starts_with("#version")) continue;
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string::npos) {
            throw Error(quoted(merges_txt.path) + " line " + std::to_string(line_number) +
                        ": expected two tokens separated by one space, got \"" + line + "\"");
        }
        merge_list.push_back({line.substr(0, space), line.substr(space + 1),
                              quoted(merges_txt.path) + " line " + std::to_string(line_number)});
    }

    std::vector<AddedToken> added;
    for (const SpecialToken& special : specials) {
        if (const auto found = vocab.find(std::string(special.content)); found != vocab.end())
            added.push_back({std::string(special.content), found->second, special.lstrip});
    }
    Gpt2Tokenizer tokenizer;
    tokenizer.impl_ = std::make_shared<const Impl>(std::move(vocab), merge_list, std::move(added));
    return tokenizer;
}

Gpt2Tokenizer Gpt2Tokenizer::from_tokenizer_json(const TokenizerText& tokenizer_json) {
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
        reject("normalizer " + root["normalizer"].value("type", std::string("?")));
    }
    if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null()) {
        const Json& pre = root["pre_tokenizer"];
        if (pre.value("type", std::string()) != "ByteLevel") {
            reject("pre_tokenizer " + pre.value("type", std::string("?")));
        }
        if (pre.value("add_prefix_space", false)) reject("pre_tokenizer.add_prefix_space=true");
        if (!pre.value("use_regex", true)) reject("pre_tokenizer.use_regex=false");
    }
    if (!model.contains("vocab")) throw Error(where + ": model.vocab is missing");
    auto vocab = parse_vocab(model["vocab"], where + " model.vocab");

    std::vector<MergeEntry> merge_list;
    const Json merges = model.value("merges", Json::array());
    if (!merges.is_array()) throw Error(where + ": model.merges must be an array");
    for (std::size_t index = 0; index < merges.size(); ++index) {
        const Json& merge = merges[index];
        std::string location = where + " model.merges[" + std::to_string(index) + "]";
        if (merge.is_string()) {
            const std::string text = merge.get<std::string>();
            const std::size_t space = text.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
                text.find(' ', space + 1) != std::string::npos) {
                throw Error(location + ": expected \"left right\", got " + merge.dump());
            }
            merge_list.push_back(
                {text.substr(0, space), text.substr(space + 1), std::move(location)});
        } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
                   merge[1].is_string()) {
            merge_list.push_back(
                {merge[0].get<std::string>(), merge[1].get<std::string>(), std::move(location)});
        } else {
            throw Error(location +
                        ": expected a \"left right\" string or a [left, right] pair, got " +
                        merge.dump());
        }
    }

    std::vector<AddedToken> added;
    for (const Json& token : root.value("added_tokens", Json::array())) {
        if (!token.is_object() || !token.contains("content") || !token["content"].is_string() ||
            !token.contains("id") || !token["id"].is_number_integer() ||
            token["id"].get<std::int64_t>() < 0) {
            throw Error(where + ": added_tokens entry " + token.dump() +
                        " needs a string \"content\" and a non-negative integer \"id\"");
        }
        for (const char* flag : {"rstrip", "single_word"}) {
            if (token.value(flag, false)) reject(std::string("added token ") + flag + "=true");
        }
        added.push_back({token["content"].get<std::string>(), token["id"].get<int32_t>(),
                         token.value("lstrip", false)});
    }

    auto impl = std::make_shared<Impl>(std::move(vocab), merge_list, std::move(added));
    impl->ignore_merges = model.value("ignore_merges", false);
    Gpt2Tokenizer tokenizer;
    tokenizer.impl_ = std::move(impl);
    return tokenizer;
}

const Gpt2Tokenizer::Impl& Gpt2Tokenizer::impl() const {
    if (!impl_) throw Error("Gpt2Tokenizer used before loading: call from_*() first");
    return *impl_;
}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
    const std::string valid = utf8::sanitize(text);
    const std::string_view view = valid;
    std::vector<int32_t> ids;
    std::size_t segment_start = 0;
    std::size_t pos = 0;
    while (pos < view.size()) {
        if (const AddedToken* token = impl().added_token_at(view, pos)) {
            std::string_view before = view.substr(segment_start, pos - segment_start);
            if (token->lstrip) before = before.substr(0, trimmed_end(before));
            impl().encode_segment(before, ids);
            ids.push_back(token->id);
            pos += token->content.size();
            segment_start = pos;
        } else {
            ++pos;
        }
    }
    impl().encode_segment(view.substr(segment_start), ids);
    return ids;
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
    for (const AddedToken& added : impl().added_tokens)
        if (added.content == token) return added.id;
    if (auto found = impl().vocab.find(std::string(token)); found != impl().vocab.end())
        return found->second;
    return std::nullopt;
}

int Gpt2Tokenizer::vocab_size() const {
    return static_cast<int>(impl().id_to_token.size());
}

}  // namespace headmap
