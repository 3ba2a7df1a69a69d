// What tokenize, export and bench share: resolving --model and --tokenizer, and turning
// --text / --pair / --texts into the ids (and token types) the model sees.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/capture/capture.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"
#include "tools/cli/args.h"

namespace headmap::cli {

// The options read_model_input() reads (the option table's "model" group), for an argument list
// built in code.
inline const std::set<std::string> kModelOptions = valued_names(options_of_group("model"));

struct ModelInput {
    std::filesystem::path model_dir;
    ModelConfig config;
    Tokenizer tokenizer;
    // One encoding per text: --text (with --pair, a sentence pair), or each line of --texts, where
    // a tab splits a line into a sentence pair. Special tokens ([CLS], <s>, ...) included.
    std::vector<Encoding> inputs;
    std::vector<int> lines;  // the --texts line of each input (0 for --text)
    // Per input, for a sentence pair: how many tokens come before the second text (the first
    // text with its frame: "[CLS] A [SEP]", "<s> A </s>", "A"); -1 for a single text.
    std::vector<int> splits;
    size_t longest = 0;  // tokens in the longest input
};

// The sources of a model's inputs, as the options name them.
struct ModelInputRequest {
    std::string model;  // --model; empty: the embedded default model
    std::string tokenizer;
    std::optional<std::string> text, pair, texts;
    size_t max_text_bytes = kDefaultMaxTextBytes;  // --max-text-bytes
};
// --max-text-bytes (default: the library's kDefaultMaxTextBytes).
size_t max_text_bytes(const Args& args);
// A --text/--pair over --max-text-bytes: an error naming both.
void check_text_bytes(std::string_view text, std::string_view which, size_t max_bytes);
ModelInputRequest model_input_request(const Args& args);

// Resolves the model, reads config.json, loads the tokenizer (--tokenizer, else the model
// directory) and encodes the texts (the library's encode_input). With `truncate`, inputs longer
// than the model's positions are cut to fit (HF truncation=True); otherwise too long a text is an
// error naming it.
ModelInput read_model_input(const ModelInputRequest& request, bool truncate);
inline ModelInput read_model_input(const Args& args, bool truncate) {
    return read_model_input(model_input_request(args), truncate);
}

// encode_input with the CLI's advice: a text past the model's positions names --truncate.
EncodedInput encode_with_cli_message(const Tokenizer& tokenizer, const ModelConfig& config,
                                     const TextInput& text, bool truncate,
                                     const std::string& which);

// --device cpu|cuda and --fast (cuda only: TF32 projections, fp16 maps) into `options`.
void apply_device_options(const Args& args, EngineOptions& options);

// Lines of a --texts file: one text per line ("\r\n" accepted); empty lines are skipped.
// A line "A\tB" is the pair (A, B). Errors name the file and line. The lines are views into
// `bytes` (a 200 MB line is not copied).
struct TextLine {
    int line;  // 1-based line number in the file (0 for --text)
    std::string_view first;
    std::optional<std::string_view> second;
};
struct TextsFile {
    std::unique_ptr<const std::string> bytes;  // a stable address for the views
    std::vector<TextLine> lines;
};
// A file over `max_bytes` (--max-text-bytes) is refused before it is read.
TextsFile read_texts_file(const std::filesystem::path& path, size_t max_bytes);

}  // namespace headmap::cli
