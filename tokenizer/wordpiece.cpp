#include "tokenizer/wordpiece.h"

#include <array>
#include <functional>
#include <span>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "headmap/error.hpp"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bert_normalizer.h"
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

// An optional boolean field: nullopt when absent or null.
std::optional<bool> optional_bool(const Json& object, const char* key, const std::string& where) {
    if (!object.contains(key) || object[key].is_null()) return std::nullopt;
    if (!object[key].is_boolean()) {
        throw Error(where + ": \"" + key + "\" is " + object[key].dump() +
                    ", expected true, false or null");
    }
    return object[key].get<bool>();
}

// A special token setting in tokenizer_config.json: a string or an AddedToken object.
std::optional<std::string> token_setting(const Json& config, const char* key,
                                         const std::string& where) {
    if (!config.contains(key) || config[key].is_null()) return std::nullopt;
    const Json& value = config[key];
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string()) {
        return value["content"].get<std::string>();
    }
    throw Error(where + ": \"" + key + "\" is " + value.dump() +
                ", expected a string or an object with a \"content\" string");
}

// One added token from tokenizer.json's added_tokens or tokenizer_config.json's
// added_tokens_decoder; options this tokenizer would not reproduce are rejected.
AddedToken parse_added_token(const Json& entry, std::optional<int32_t> id,
                             const std::string& where) {
    if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string() ||
        entry["content"].get<std::string>().empty()) {
        throw Error(where + ": expected an object with a non-empty \"content\" string");
    }
    if (!id) {
        if (!entry.contains("id")) throw Error(where + ": expected an integer \"id\"");
        id = json_token_id(entry["id"], entry["content"].get_ref<const std::string&>(), where);
    }
    for (const char* flag : {"lstrip", "rstrip", "single_word", "normalized"}) {
        if (optional_bool(entry, flag, where).value_or(false)) {
            throw Error(where + ": added token " + entry["content"].dump() + " has \"" + flag +
                        "\": true, which is not supported (only raw-text added tokens are)");
        }
    }
    return {entry["content"].get<std::string>(), *id};
}

// Settings transformers takes from tokenizer_config.json for a BERT tokenizer.
struct ConfigSettings {
    WordPieceOptions options;
    std::optional<std::vector<AddedToken>> added_tokens_decoder;
    std::string tokenizer_class;
};

ConfigSettings read_config(const std::optional<TokenizerText>& file) try {
    ConfigSettings settings;
    if (!file) return settings;  // all defaults
    const Json config = parse_json(*file);
    const std::string where = quoted(file->path);
    if (!config.is_object()) throw Error(where + ": expected a JSON object");
    WordPieceOptions& options = settings.options;
    options.lowercase = optional_bool(config, "do_lower_case", where).value_or(true);
    options.strip_accents = optional_bool(config, "strip_accents", where);
    options.handle_chinese_chars =
        optional_bool(config, "tokenize_chinese_chars", where).value_or(true);
    options.unk_token = token_setting(config, "unk_token", where).value_or("[UNK]");
    options.special_tokens.clear();
    for (const auto& [key, fallback] : {std::pair{"sep_token", "[SEP]"},
                                        {"pad_token", "[PAD]"},
                                        {"cls_token", "[CLS]"},
                                        {"mask_token", "[MASK]"}}) {
        options.special_tokens.push_back(token_setting(config, key, where).value_or(fallback));
    }
    if (config.contains("tokenizer_class") && config["tokenizer_class"].is_string()) {
        settings.tokenizer_class = config["tokenizer_class"].get<std::string>();
    }
    if (config.contains("added_tokens_decoder")) {
        const Json& decoder = config["added_tokens_decoder"];
        if (!decoder.is_object())
            throw Error(where + ": \"added_tokens_decoder\" must be an object");
        settings.added_tokens_decoder.emplace();
        for (const auto& [key, entry] : decoder.items()) {
            const std::string entry_where = where + " added_tokens_decoder[\"" + key + "\"]";
            std::size_t used = 0;
            long long id = -1;
            try {
                id = std::stoll(key, &used);
            } catch (const std::exception&) {
            }
            if (used != key.size() || id < 0 || id > kMaxTokenId) {
                throw Error(entry_where + ": the key must be an integer id in 0.." +
                            std::to_string(kMaxTokenId));
            }
            settings.added_tokens_decoder->push_back(
                parse_added_token(entry, static_cast<int32_t>(id), entry_where));
        }
    }
    return settings;
} catch (const Json::exception& e) {  // a field of an unexpected JSON type
    throw Error(quoted(file->path) + ": " + e.what());
}

// Decodes the code point at `pos` of valid UTF-8 (the output of utf8::sanitize) and advances
// `pos` past it.
char32_t next_code_point(std::string_view valid_utf8, std::size_t& pos) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(valid_utf8[i]); };
    const unsigned char lead = byte(pos);
    if (lead < 0x80) return valid_utf8[pos++];
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    char32_t c = lead & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i) c = (c << 6) | (byte(pos + i) & 0x3F);
    pos += length;
    return c;
}

bool is_bert_tokenizer_class(const std::string& name) {
    return name == "BertTokenizer" || name == "BertTokenizerFast" ||
           name == "DistilBertTokenizer" || name == "DistilBertTokenizerFast";
}

// Added tokens as transformers registers them: the explicit list, then the named special tokens
// (unk, sep, pad, cls, mask) not yet added, with their vocabulary id or, when the vocabulary
// lacks them, a new id after the vocabulary and the added tokens (tokenizers' AddedVocabulary).
std::vector<AddedToken> with_special_tokens(std::vector<AddedToken> added, const TokenMap& vocab,
                                            const WordPieceOptions& options) {
    std::vector<std::string> names = {options.unk_token};
    names.insert(names.end(), options.special_tokens.begin(), options.special_tokens.end());
    for (const std::string& name : names) {
        bool present = name.empty();
        int64_t next_id = static_cast<int64_t>(vocab.size());
        for (const AddedToken& token : added) {
            present = present || token.content == name;
            next_id = std::max<int64_t>(next_id, int64_t{token.id} + 1);
        }
        if (present) continue;
        const int32_t* found = vocab.find(name);
        if (!found && next_id > kMaxTokenId) throw Error("too many added tokens");
        added.push_back({name, found ? *found : static_cast<int32_t>(next_id)});
    }
    return added;
}

}  // namespace

struct WordPieceTokenizer::Impl {
    WordPieceOptions options;  // strip_accents resolved
    bert::NormalizerOptions normalizer;
    TokenMap vocab;         // model vocabulary: word-initial pieces by full token
    TokenMap continuation;  // tokens starting with the prefix, keyed without it
    std::size_t max_word_piece_bytes = 0;
    std::size_t max_continuation_bytes = 0;
    std::optional<int32_t> unk_id;
    std::vector<AddedToken> added_tokens;  // as listed (from_files rebuilds from them)
    AddedTokenMatcher added;
    IdToToken id_to_token;  // views into vocab and added

    Impl(TokenMap model_vocab, std::vector<AddedToken> added_list, WordPieceOptions settings)
        : options(std::move(settings)),
          vocab(std::move(model_vocab)),
          added_tokens(std::move(added_list)),
          added(added_tokens) {
        if (!options.strip_accents) options.strip_accents = options.lowercase;
        normalizer = {options.clean_text, options.handle_chinese_chars, *options.strip_accents,
                      options.lowercase};
        const std::string& prefix = options.continuing_prefix;
        std::vector<std::pair<int32_t, std::string_view>> ids;
        ids.reserve(vocab.size() + added_tokens.size());
        for (const auto& [token, id] : vocab) {
            ids.emplace_back(id, token);
            max_word_piece_bytes = std::max(max_word_piece_bytes, token.size());
            if (token.starts_with(prefix) && token.size() > prefix.size()) {
                continuation.try_emplace(token.substr(prefix.size()), id);
                max_continuation_bytes =
                    std::max(max_continuation_bytes, token.size() - prefix.size());
            }
        }
        for (const AddedToken& token : added.tokens()) ids.emplace_back(token.id, token.content);
        id_to_token.build(ids);
        if (const int32_t* found = vocab.find(options.unk_token)) unk_id = *found;
    }

    Impl(const Impl&) = delete;  // id_to_token points into vocab

    int32_t unknown() const {
        if (!unk_id) {
            throw Error("WordPiece: the unknown token \"" + options.unk_token +
                        "\" is not in the vocabulary, but the text needs it");
        }
        return *unk_id;
    }

    // Greedy longest-match-first over one pre-tokenized word.
    void encode_word(std::span<const char32_t> word, std::string& bytes,
                     std::vector<std::size_t>& starts, std::vector<int32_t>& ids) const {
        if (word.size() > static_cast<std::size_t>(std::max(options.max_input_chars_per_word, 0))) {
            ids.push_back(unknown());
            return;
        }
        bytes.clear();
        starts.clear();
        for (char32_t c : word) {
            starts.push_back(bytes.size());
            utf8::append_code_point(bytes, c);
        }
        starts.push_back(bytes.size());
        const std::size_t ids_before = ids.size();
        const std::size_t n = word.size();
        std::size_t start = 0;
        while (start < n) {
            const TokenMap& pieces = start == 0 ? vocab : continuation;
            const std::size_t max_bytes =
                start == 0 ? max_word_piece_bytes : max_continuation_bytes;
            std::optional<int32_t> match;
            std::size_t end = n;
            for (; end > start; --end) {
                const std::size_t length = starts[end] - starts[start];
                if (length > max_bytes) continue;  // longer than any token: cannot match
                const int32_t* found =
                    pieces.find(std::string_view(bytes).substr(starts[start], length));
                if (found) {
                    match = *found;
                    break;
                }
            }
            if (!match) {
                ids.resize(ids_before);
                ids.push_back(unknown());
                return;
            }
            ids.push_back(*match);
            start = end;
        }
    }
};

WordPieceTokenizer WordPieceTokenizer::from_files(const TokenizerFiles& files) {
    const auto config_file = files.text(&TokenizerFiles::tokenizer_config_json);
    if (const auto json = files.text(&TokenizerFiles::tokenizer_json)) {
        WordPieceTokenizer tokenizer = from_tokenizer_json(*json);
        ConfigSettings config = read_config(config_file);
        if (!is_bert_tokenizer_class(config.tokenizer_class)) return tokenizer;
        // transformers rebuilds a BERT tokenizer around tokenizer.json's vocabulary with the
        // config's settings and WordPiece defaults; added tokens come from the config's
        // added_tokens_decoder when it has one, else from tokenizer.json.
        const Impl& loaded = tokenizer.impl();
        std::vector<AddedToken> added =
            config.added_tokens_decoder ? *config.added_tokens_decoder : loaded.added_tokens;
        added = with_special_tokens(std::move(added), loaded.vocab, config.options);
        tokenizer.impl_ =
            std::make_shared<const Impl>(loaded.vocab, std::move(added), config.options);
        return tokenizer;
    }
    if (const auto vocab = files.text(&TokenizerFiles::vocab_txt)) {
        ConfigSettings config = read_config(config_file);
        WordPieceTokenizer tokenizer = from_vocab_txt(*vocab, config.options);
        if (config.added_tokens_decoder) {
            const Impl& loaded = tokenizer.impl();
            auto added =
                with_special_tokens(*config.added_tokens_decoder, loaded.vocab, config.options);
            tokenizer.impl_ =
                std::make_shared<const Impl>(loaded.vocab, std::move(added), config.options);
        }
        return tokenizer;
    }
    throw Error("no tokenizer files in " + quoted(files.dir) +
                ": looked for tokenizer.json and vocab.txt");
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_txt(const TokenizerText& vocab_txt,
                                                      const WordPieceOptions& options) {
    const std::string_view text = vocab_txt.text;
    TokenMap vocab;
    std::size_t line_start = 0;
    for (int32_t line_number = 0; line_start < text.size(); ++line_number) {
        if (line_number > kMaxTokenId) throw Error(quoted(vocab_txt.path) + " has too many lines");
        std::size_t line_end = text.find('\n', line_start);
        if (line_end == std::string::npos) line_end = text.size();
        std::string_view line(text.data() + line_start, line_end - line_start);
        line_start = line_end + 1;
        if (utf8::sanitize(line) != line) {
            throw Error(quoted(vocab_txt.path) + " line " + std::to_string(line_number + 1) +
                        " is not valid UTF-8");
        }
        // HF: BufRead::lines (drops "\n" and "\r\n"), then str::trim_end (White_Space).
        const auto chars = utf8::decode_valid(line);
        std::size_t length = line.size();
        for (auto it = chars.rbegin(); it != chars.rend(); ++it) {
            if (!unicode::is_white_space(it->code_point)) break;
            length = it->byte_offset;
        }
        vocab.insert_or_assign(line.substr(0, length), line_number);
    }
    if (vocab.empty())
        throw Error(quoted(vocab_txt.path) + " is empty: expected one token per line");
    auto added = with_special_tokens({}, vocab, options);
    WordPieceTokenizer tokenizer;
    tokenizer.impl_ = std::make_shared<const Impl>(std::move(vocab), std::move(added), options);
    return tokenizer;
}

WordPieceTokenizer WordPieceTokenizer::from_tokenizer_json(
    const TokenizerText& tokenizer_json) try {
    const Json root = parse_json(tokenizer_json);
    const std::string where = quoted(tokenizer_json.path);
    const auto reject = [&](const std::string& what) {
        throw Error(where + ": " + what +
                    " is not supported (expected a BERT WordPiece tokenizer: WordPiece model, "
                    "BertNormalizer, BertPreTokenizer)");
    };
    if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
        throw Error(where + ": expected a JSON object with a \"model\" object");
    }
    const Json& model = root["model"];
    if (model.contains("type") ? model["type"] != "WordPiece"
                               : !model.contains("max_input_chars_per_word")) {
        reject("model type " + (model.contains("type") ? model["type"].dump() : "(none)"));
    }
    if (!model.contains("vocab") || !model["vocab"].is_object()) {
        throw Error(where + ": model.vocab: expected a JSON object mapping tokens to integer ids");
    }
    TokenMap vocab;
    for (const auto& [token, id] : model["vocab"].items())
        vocab.insert_or_assign(token, json_token_id(id, token, where + " model.vocab"));

    WordPieceOptions options;
    options.special_tokens.clear();  // tokenizer.json lists its added tokens itself
    const auto string_field = [&](const Json& object, const char* key, std::string& field) {
        if (!object.contains(key)) return;
        if (!object[key].is_string()) throw Error(where + ": \"" + key + "\" must be a string");
        field = object[key].get<std::string>();
    };
    string_field(model, "unk_token", options.unk_token);
    string_field(model, "continuing_subword_prefix", options.continuing_prefix);
    if (model.contains("max_input_chars_per_word")) {
        const Json& max_chars = model["max_input_chars_per_word"];
        if (!max_chars.is_number_integer() || max_chars < 0 || max_chars > INT32_MAX) {
            throw Error(where + ": model.max_input_chars_per_word must be a non-negative integer");
        }
        options.max_input_chars_per_word = max_chars.get<int>();
    }

    const Json normalizer = root.value("normalizer", Json());
    if (normalizer.is_null()) {  // no normalizer: BertNormalizer with every step off
        options.clean_text = options.handle_chinese_chars = options.lowercase = false;
        options.strip_accents = false;
    } else if (!normalizer.is_object() || normalizer.value("type", "") != "BertNormalizer") {
        reject("normalizer " + normalizer.dump().substr(0, 200));
    } else {  // HF's defaults for absent fields
        options.clean_text = optional_bool(normalizer, "clean_text", where).value_or(true);
        options.handle_chinese_chars =
            optional_bool(normalizer, "handle_chinese_chars", where).value_or(true);
        options.strip_accents = optional_bool(normalizer, "strip_accents", where);
        options.lowercase = optional_bool(normalizer, "lowercase", where).value_or(true);
    }
    const Json pre_tokenizer = root.value("pre_tokenizer", Json());
    if (!pre_tokenizer.is_object() || pre_tokenizer.value("type", "") != "BertPreTokenizer") {
        reject("pre_tokenizer " + pre_tokenizer.dump().substr(0, 200));
    }

    std::vector<AddedToken> added;
    if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
        if (!root["added_tokens"].is_array())
            throw Error(where + ": added_tokens must be an array");
        for (std::size_t i = 0; i < root["added_tokens"].size(); ++i) {
            added.push_back(parse_added_token(root["added_tokens"][i], std::nullopt,
                                              where + " added_tokens[" + std::to_string(i) + "]"));
        }
    }
    WordPieceTokenizer tokenizer;
    tokenizer.impl_ = std::make_shared<const Impl>(std::move(vocab), std::move(added), options);
    return tokenizer;
} catch (const Json::exception& e) {  // a field of an unexpected JSON type
    throw Error(quoted(tokenizer_json.path) + ": " + e.what());
}

const WordPieceTokenizer::Impl& WordPieceTokenizer::impl() const {
    if (!impl_) {
        throw Error("WordPieceTokenizer used before loading: call from_*() first");
    }
    return *impl_;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text) const {
    const Impl& self = impl();
    const std::string valid = utf8::sanitize(text);
    // Text between added tokens is processed in bounded chunks, so the buffers stay small and
    // cache-resident on long inputs: a chunk is cut before an ASCII space once it is long
    // enough. That cannot change the result: ' ' is never altered or dropped by the normalizer,
    // is a starter (combining class 0, so no reordering crosses it) and always ends a word.
    constexpr std::size_t kChunkChars = 4096;
    std::vector<char32_t> segment, normalized, scratch;
    std::string word_bytes;
    std::vector<std::size_t> word_starts;
    std::vector<int32_t> ids;
    const auto encode_segment = [&] {
        normalized.clear();
        bert::normalize(segment, self.normalizer, normalized, scratch);
        bert::pre_tokenize(normalized, [&](std::span<const char32_t> word) {
            self.encode_word(word, word_bytes, word_starts, ids);
        });
        segment.clear();
    };
    const auto append_text = [&](std::size_t pos, std::size_t end) {
        while (pos < end) {
            const char32_t c = next_code_point(valid, pos);
            if (c == U' ' && segment.size() >= kChunkChars) encode_segment();
            segment.push_back(c);
        }
    };
    std::size_t pos = 0;
    for (const AddedTokenMatcher::Match& match : self.added.split(valid)) {
        append_text(pos, match.start);
        encode_segment();
        ids.push_back(match.token->id);
        pos = match.start + match.token->content.size();
    }
    append_text(pos, valid.size());
    encode_segment();
    return ids;
}

std::size_t WordPieceTokenizer::next_cut(std::string_view text, std::size_t from) const {
    // The argument of the chunking above: an ASCII space always ends a word and no normalizer
    // step crosses it, so unless an added token could contain it, the text splits there.
    if (impl().added.any_contains(' ')) return std::string_view::npos;
    return text.find(' ', std::max<std::size_t>(from, 1));
}

std::optional<int32_t> WordPieceTokenizer::token_id(std::string_view token) const {
    if (const AddedToken* added = impl().added.find(token)) return added->id;
    if (const int32_t* found = impl().vocab.find(token)) return *found;
    return std::nullopt;
}

std::string WordPieceTokenizer::token_string(int32_t id) const {
    const std::string_view* token = impl().id_to_token.find(id);
    if (!token) {
        throw Error("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                    std::to_string(impl().id_to_token.size()) + ")");
    }
    return std::string(*token);
}

int WordPieceTokenizer::vocab_size() const {
    return static_cast<int>(impl().id_to_token.size());
}

const WordPieceOptions& WordPieceTokenizer::options() const {
    return impl().options;
}

}  // namespace headmap
