#include "engine/tokenizer_dir.h"

#include <string>

#include "engine/read_file.h"
#include "headmap/error.hpp"

namespace headmap {

TokenizerFiles read_tokenizer_files(const std::filesystem::path& dir) {
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) {
        throw Error("tokenizer directory '" + dir.string() +
                    "' does not exist or is not a directory (expected tokenizer.json, or "
                    "vocab.json and merges.txt, or vocab.txt, in it)");
    }
    TokenizerFiles files;
    files.dir = dir;
    for (const TokenizerFileKind& kind : kTokenizerFileKinds) {
        const std::filesystem::path path = dir / kind.name;
        if (!std::filesystem::exists(path, error)) continue;
        std::string why;
        files.*kind.member = read_regular_file(path, why);
        if (!(files.*kind.member))
            throw Error("cannot open " + std::string(kind.what) + " '" + path.string() +
                        "': " + why);
    }
    return files;
}

Tokenizer load_tokenizer_dir(const std::filesystem::path& dir, std::string_view model_type) {
    return Tokenizer::from_files(read_tokenizer_files(dir), model_type);
}

}  // namespace headmap
