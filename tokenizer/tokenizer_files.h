// Tokenizer files as bytes. The tokenizer room opens no files: the I/O room
// (engine/tokenizer_dir.h) reads a directory into TokenizerFiles and the loaders parse the
// strings, naming each file by its path in messages ("'<dir>/vocab.json' line 3: ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace headmap {

// One file's text and the path messages name it by (nothing is read from that path).
struct TokenizerText {
    std::string_view text;
    std::filesystem::path path;
};

// The tokenizer files of one directory; a file the directory lacks is nullopt.
struct TokenizerFiles {
    std::filesystem::path dir;  // named in messages, never opened
    std::optional<std::string> tokenizer_json, vocab_json, merges_txt, vocab_txt,
        tokenizer_config_json;

    // The member's text with its path (dir / its file name); nullopt when absent.
    std::optional<TokenizerText> text(std::optional<std::string> TokenizerFiles::*file) const;
};

// Each file the loaders use: its name in the directory, what messages call it, and its member.
struct TokenizerFileKind {
    const char* name;
    const char* what;
    std::optional<std::string> TokenizerFiles::*member;
};
inline constexpr TokenizerFileKind kTokenizerFileKinds[] = {
    {"tokenizer.json", "tokenizer file", &TokenizerFiles::tokenizer_json},
    {"vocab.json", "vocab file", &TokenizerFiles::vocab_json},
    {"merges.txt", "merges file", &TokenizerFiles::merges_txt},
    {"vocab.txt", "vocab file", &TokenizerFiles::vocab_txt},
    {"tokenizer_config.json", "tokenizer config", &TokenizerFiles::tokenizer_config_json},
};

namespace tokenizer_files {

// "'path'" for messages.
std::string quoted(const std::filesystem::path& path);

// The text parsed as JSON; a syntax error names the file, line and column.
nlohmann::json parse_json(const TokenizerText& file);

// The integer of `value` (any JSON type) as a token id (checked_token_id's rule), or
// headmap::Error "<where>: token "<token>" has id <value>, expected ...".
int32_t json_token_id(const nlohmann::json& value, std::string_view token,
                      const std::string& where);

}  // namespace tokenizer_files
}  // namespace headmap
