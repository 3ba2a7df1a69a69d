// Attention maps with what a reader needs beside the numbers: the tokens, which layers are held,
// the sentence-pair split and whether the model is causal. The capture pipeline (capture.h) and
// the saved-maps readers (saved_maps.h) produce it; the CLI, the C API and the views consume it.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace headmap {

struct AttentionMaps {
    std::vector<float> values;  // (layers.size(), n_head, seq, seq), rows attending
    std::vector<int> layers;    // the model layers held, ascending
    int n_layer = 0, n_head = 0, seq = 0;
    std::vector<std::string> tokens;  // seq labels, as the vocabulary spells them ("Ġworld")
    int split = -1;                   // sentence pairs: tokens of the first segment; else -1
    bool causal = false;              // decoder maps: the upper triangle is masked
    std::string name;                 // the model or file, for titles
    // Word-level maps: the maps, tokens and split are per word, and this is the word of each
    // original token (S_tokens); empty for token-level maps.
    std::vector<int> word_of_token;

    // (seq, seq) map of held layer `layer` (a model layer index) and head `head`; headmap::Error
    // (OutOfRange) when that layer or head is not held.
    std::span<const float> map(int layer, int head) const;
};

// A head specification checked against the maps: "mean" and "max" stay, one head index (negative
// from the end) becomes its number ("-1" -> "11" for 12 heads); anything else is headmap::Error.
std::string resolve_head(const AttentionMaps& maps, const std::string& head_spec);

// One (seq, seq) map: `head_spec` is a head index (negative from the end), "mean" or "max" across
// the heads of held layer `layer`.
std::vector<float> select_map(const AttentionMaps& maps, int layer, const std::string& head_spec);

}  // namespace headmap
