// Attention maps for the view commands (heatmap, grid, compare, stability, evolution, regions):
// computed by a model (--model/--text/--pair as export takes them; with no --model, the embedded
// default weights/gpt2-tiny-headmap) or read from saved maps (--from FILE.npy|.safetensors, with
// --tokens for the labels and --split N for a sentence pair whose first segment has N tokens).
// --words merges the sub-word tokens into words (engine/analysis/words.h has the rule).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/capture/attention_maps.h"
#include "tools/cli/args.h"

namespace headmap::cli {

// The maps and what labels them: the library's type (engine/capture/attention_maps.h).
using Maps = headmap::AttentionMaps;

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

using headmap::resolve_head;
using headmap::select_map;

}  // namespace headmap::cli
