#include "tokenizer/tokenizer_files.h"

#include "headmap/error.hpp"
#include "tokenizer/token_tables.h"

namespace headmap {

std::optional<TokenizerText> TokenizerFiles::text(
    std::optional<std::string> TokenizerFiles::*file) const {
    const std::optional<std::string>& bytes = this->*file;
    if (!bytes) return std::nullopt;
    for (const TokenizerFileKind& kind : kTokenizerFileKinds)
        if (kind.member == file) return TokenizerText{*bytes, dir / kind.name};
    throw Error("TokenizerFiles::text: not a tokenizer file member");  // unreachable
}

namespace tokenizer_files {

// Built with += : GCC 12 warns falsely (-Wrestrict) on "'" + string.
std::string quoted(const std::filesystem::path& path) {
    std::string text = "'";
    text += path.string();
    text += "'";
    return text;
}

nlohmann::json parse_json(const TokenizerText& file) {
    try {
        return nlohmann::json::parse(file.text);
    } catch (const nlohmann::json::exception& e) {
        // A syntax error (nlohmann's message names the line and column) or a number no double
        // holds (1e400).
        throw Error(quoted(file.path) + " is not valid JSON (" + e.what() + ")");
    }
}

int32_t json_token_id(const nlohmann::json& value, std::string_view token,
                      const std::string& where) {
    int64_t id = -1;
    if (value.is_number_unsigned())
        id = value.get<uint64_t>() > uint64_t(kMaxTokenId) ? -1 : int64_t(value.get<uint64_t>());
    else if (value.is_number_integer())
        id = value.get<int64_t>();
    return checked_token_id(id, value.dump(), token, where);
}

}  // namespace tokenizer_files
}  // namespace headmap
