// What tokenize and export share: resolving --model and --tokenizer, and turning --text into ids.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/config.h"
#include "tokenizer/gpt2_bpe.h"
#include "tools/cli/args.h"

namespace headmap::cli {

inline const std::set<std::string> kModelOptions = {"model", "tokenizer", "text"};

struct ModelInput {
    std::filesystem::path model_dir;
    ModelConfig config;
    Gpt2Tokenizer tokenizer;
    std::vector<int32_t> ids;
};

// Resolves --model, reads config.json, loads the tokenizer (--tokenizer, else the model
// directory) and encodes --text. With `truncate`, ids beyond max_positions are dropped;
// otherwise too long a text is an error.
ModelInput read_model_input(const Args& args, bool truncate);

}  // namespace headmap::cli
