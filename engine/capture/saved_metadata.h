// What headmap's own exports hold beside the maps (the tokens, the token types), read back so that
// a view of a saved export looks like the view of the model: flat JSON lists, as the
// .safetensors metadata writes them, and the labels and pair split they give.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/capture/attention_maps.h"

namespace headmap {

// A flat JSON list of strings (or of integers); nullopt for any other text: another JSON value,
// nested lists, mixed types, invalid JSON. Parsed without building a document, so a hostile
// nesting depth costs nothing.
std::optional<std::vector<std::string>> json_string_list(std::string_view text);
std::optional<std::vector<int64_t>> json_int_list(std::string_view text);

// Labels from an export's tokens: one per row, else headmap::Error naming `where`. Token types of
// a sentence pair (0 ... 0 1 ... 1, one per row) give maps.split; any other list is ignored (a
// word-level export keeps the token-level types).
void apply_export_labels(AttentionMaps& maps, std::optional<std::vector<std::string>> tokens,
                         const std::optional<std::vector<int64_t>>& type_ids,
                         const std::string& where);

}  // namespace headmap
