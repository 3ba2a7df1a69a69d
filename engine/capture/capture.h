// The capture pipeline shared by the CLI, the C API and embedders: a model's files (config and
// tokenizer) -> the ids a text or a sentence pair gives (HF truncation, the pair's split) -> the
// forward pass, whose maps leave the ring layer by layer into a sink and/or one AttentionMaps
// (with a layer and head selection, and optionally merged into words).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/capture/attention_maps.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/analysis/words.h"
#include "tokenizer/tokenizer.h"

namespace headmap {

// What a model directory says before any weight is read: where it is, its config.json, and its
// tokenizer (from `tokenizer_dir` when given, else the model directory).
struct ModelFiles {
    std::filesystem::path dir;
    ModelConfig config;
    Tokenizer tokenizer;
};

// `model` is a directory, a name under a weights folder or a Hugging Face cache id
// (engine/model_files.h has the lookup rule).
ModelFiles load_model_files(const std::string& model, const std::string& tokenizer_dir = "");

// Views: the caller keeps the texts alive for the call (a 200 MB --texts line is not copied).
struct TextInput {
    std::string_view first;
    std::optional<std::string_view> second;  // a sentence pair's second text
};

// The longest text encode_input accepts by default (1 GiB): generous, but a bound on what a
// caller's input can make the tokenizer do. The CLI's --max-text-bytes sets it.
inline constexpr size_t kDefaultMaxTextBytes = size_t{1} << 30;

struct EncodedInput {
    Encoding encoding;  // special tokens included
    // For a sentence pair: how many tokens come before the second text (the first text with its
    // frame: "[CLS] A [SEP]", "<s> A </s>", "A"); -1 for a single text.
    int split = -1;
};

// The ids the model sees. With `truncate`, inputs longer than the model's positions are cut to
// fit (HF truncation=True, longest_first for pairs); otherwise too long a text is
// headmap::Error (OutOfRange). `which` names the text in errors ("text", "text on line 3").
EncodedInput encode_input(const Tokenizer& tokenizer, const ModelConfig& config,
                          const TextInput& text, bool truncate, const std::string& which = "text",
                          size_t max_text_bytes = kDefaultMaxTextBytes);
inline EncodedInput encode_input(const ModelFiles& model, const TextInput& text, bool truncate,
                                 const std::string& which = "text") {
    return encode_input(model.tokenizer, model.config, text, truncate, which);
}

// The token strings of `ids`, as the vocabulary spells them.
std::vector<std::string> token_strings(const Tokenizer& tokenizer, std::span<const int32_t> ids);

struct CaptureOptions {
    std::string layers = "all";  // a selection (selection.h)
    std::string heads = "all";
    bool words = false;  // merge sub-word tokens into words (engine/analysis/words.h has the rule)
};

// Receives each selected layer's maps as they leave the ring: (n_heads, n_q, n_k), n_q == n_k,
// already merged into words when asked. Returning false cancels the run (headmap::Error with
// Status::Cancelled).
using LayerSink =
    std::function<bool(int layer, int n_heads, int n_q, int n_k, std::span<const float> maps)>;

// Runs `engine` (loaded from `model`) on `input`. With `collect`, the returned maps hold every
// selected layer and head; without, only the metadata (tokens, layers, split) is filled in.
AttentionMaps capture(Engine& engine, const ModelFiles& model, const EncodedInput& input,
                      const CaptureOptions& options, const LayerSink& sink = {},
                      bool collect = true);

// Word-level maps in place: maps, tokens and split become per word; a pair's second text always
// starts a word.
void merge_into_words(AttentionMaps& maps, words::TokenFamily family);

}  // namespace headmap
