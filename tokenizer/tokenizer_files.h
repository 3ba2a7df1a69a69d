// Reading tokenizer files with messages that name the file: shared by the BPE and WordPiece
// loaders. Every failure throws headmap::Error.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace headmap::tokenizer_files {

// "'path'" for messages.
std::string quoted(const std::filesystem::path& path);

// The whole file; `what` names it in the error ("vocab file", "merges file", ...).
std::string read_file(const std::filesystem::path& path, std::string_view what);

// The file parsed as JSON; a syntax error names the file, line and column.
nlohmann::json parse_json(const std::filesystem::path& path, std::string_view what);

}  // namespace headmap::tokenizer_files
