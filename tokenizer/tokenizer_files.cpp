#include "tokenizer/tokenizer_files.h"

#include "engine/read_file.h"
#include "headmap/error.hpp"

namespace headmap::tokenizer_files {

// Built with += : GCC 12 warns falsely (-Wrestrict) on "'" + string.
std::string quoted(const std::filesystem::path& path) {
    std::string text = "'";
    text += path.string();
    text += "'";
    return text;
}

std::string read_file(const std::filesystem::path& path, std::string_view what) {
    std::string why;
    std::optional<std::string> contents = read_regular_file(path, why);
    if (!contents)
        throw Error("cannot open " + std::string(what) + " " + quoted(path) + ": " + why);
    return std::move(*contents);
}

nlohmann::json parse_json(const std::filesystem::path& path, std::string_view what) {
    const std::string text = read_file(path, what);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann's message names the line and column.
        throw Error(quoted(path) + " is not valid JSON (" + e.what() + ")");
    }
}

}  // namespace headmap::tokenizer_files
