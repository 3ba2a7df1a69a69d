// Attention maps for the view commands (heatmap, grid, compare, stability, evolution, regions):
// computed by a model (--model/--text/--pair as export takes them; with no --model, the embedded
// default weights/gpt2-tiny-headmap) or read from saved maps (--from FILE.npy|.safetensors, with
// --tokens for the labels and --split N for a sentence pair whose first segment has N tokens).
// --words merges the sub-word tokens into words (engine/words.h has the rule).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "tools/cli/args.h"

namespace headmap::cli {

struct Maps {
    std::vector<float> values;  // (layers.size(), n_head, seq, seq)
    std::vector<int> layers;    // the model layers held, ascending
    int n_layer = 0, n_head = 0, seq = 0;
    std::vector<std::string> tokens;  // seq labels, as the vocabulary spells them ("Ġworld")
    int split = -1;                   // sentence pairs: tokens of the first segment; else -1
    bool causal = false;              // decoder maps: the upper triangle is masked
    std::string name;                 // the model or file, for titles
    // With --words: the maps, tokens and split are per word, and this is the word of each
    // original token (S_tokens); empty otherwise.
    std::vector<int> word_of_token;

    // (seq, seq) map of held layer `layer` (a model layer index) and head `head`.
    std::span<const float> map(int layer, int head) const;
};

// The directory of the embedded default model: $HEADMAP_WEIGHTS/gpt2-tiny-headmap, else
// weights/gpt2-tiny-headmap under the current directory, else beside the executable
// (build/bin/../../weights, or ../share/headmap/weights when installed).
std::filesystem::path default_model_dir();

// Loads maps for the layers `layer_selection` picks ("-1", "all", "0,3-5"; negative counts from
// the end). With `model_override`/`text_override`, those replace --model/--text (compare and
// evolution load several sources). With the --words flag the maps are merged into words: the
// family from config.json's model_type, or for saved maps from the --tokens strings (required).
Maps load_maps(const Args& args, const std::string& layer_selection, bool truncate,
               const std::optional<std::string>& model_override = std::nullopt,
               const std::optional<std::string>& text_override = std::nullopt,
               const std::optional<std::string>& from_override = std::nullopt);

// Saved maps: every dimension 1..2^24 and at most 2^34 values (64 GiB of float32).
constexpr int64_t kMaxMapDimension = int64_t(1) << 24;
constexpr size_t kMaxMapValues = size_t(1) << 34;
// The number of values of `shape`, or headmap::Error (starting with `where`) when a dimension or
// the total is outside those bounds.
size_t checked_element_count(std::span<const int64_t> shape, const std::string& where);

// Reads a float32 or float16 C-order .npy file: shape and values. The header is parsed exactly
// (numpy's three keys, once each). headmap::Error names the file and what was wrong.
struct NpyData {
    std::vector<int64_t> shape;
    std::vector<float> values;
};
NpyData read_npy_file(const std::filesystem::path& path);

// A --head value checked against the maps: "mean" and "max" stay, one head index (negative from
// the end) becomes its number ("-1" -> "11" for 12 heads); anything else is headmap::Error.
std::string resolve_head(const Maps& maps, const std::string& head_spec);

// One (seq, seq) map from the maps: `head_spec` is a head index (negative from the end), "mean"
// or "max" across heads.
std::vector<float> select_map(const Maps& maps, int layer, const std::string& head_spec);

}  // namespace headmap::cli
