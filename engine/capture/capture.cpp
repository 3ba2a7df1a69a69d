#include "engine/capture/capture.h"

#include <algorithm>

#include "engine/architecture.h"
#include "engine/capture/selection.h"
#include "engine/model_files.h"
#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "tokenizer/truncation.h"

namespace headmap {

ModelFiles load_model_files(const std::string& model, const std::string& tokenizer_dir) {
    const std::filesystem::path dir = resolve_model_dir(model);
    ModelConfig config = load_model_config(dir / "config.json");
    const std::filesystem::path tokenizer_path =
        tokenizer_dir.empty() ? dir : std::filesystem::path(tokenizer_dir);
    Tokenizer tokenizer = load_tokenizer_dir(tokenizer_path, config.model_type);
    // A tokenizer whose ids pass the model's embedding rows would fail on some text, not on
    // others: refuse the pair at load, whatever the text.
    if (tokenizer.vocab_size() > config.vocab_size)
        throw Error("the tokenizer in '" + tokenizer_path.string() + "' has ids up to " +
                        std::to_string(int64_t(tokenizer.vocab_size()) - 1) + ", but '" +
                        (dir / "config.json").string() + "' has vocab_size " +
                        std::to_string(config.vocab_size) +
                        " (the tokenizer and model do not match)",
                    Status::BadInput);
    return ModelFiles{dir, std::move(config), std::move(tokenizer)};
}

std::vector<std::string> token_strings(const Tokenizer& tokenizer, std::span<const int32_t> ids) {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) tokens.push_back(tokenizer.token_string(id));
    return tokens;
}

EncodedInput encode_input(const Tokenizer& tokenizer, const ModelConfig& config,
                          const TextInput& text, bool truncate, const std::string& which,
                          size_t max_text_bytes) {
    for (const std::optional<std::string_view> part : {std::optional(text.first), text.second})
        if (part && part->size() > max_text_bytes)
            throw Error("the " + which + " is " + std::to_string(part->size()) +
                            " bytes, more than the limit of " + std::to_string(max_text_bytes) +
                            " (max_text_bytes)",
                        Status::OutOfRange);
    const size_t max_tokens = size_t(config.max_tokens());
    const size_t limit = truncate ? max_tokens : 0;
    EncodedInput out;
    out.encoding = text.second ? tokenizer.encode_pair(text.first, *text.second, limit)
                               : tokenizer.encode(text.first, limit);
    const Encoding& encoding = out.encoding;
    if (encoding.ids.empty())
        throw Error("the " + which + " gives no tokens (expected a non-empty text)");
    if (encoding.ids.size() > max_tokens)
        throw Error("the " + which + " is " + std::to_string(encoding.ids.size()) +
                        " tokens, more than the model's " + std::to_string(max_tokens) +
                        " positions (shorten it or truncate it)",
                    Status::OutOfRange);
    for (int32_t id : encoding.ids)
        if (id < 0 || id >= config.vocab_size)
            throw Error("token id " + std::to_string(id) +
                            " from the tokenizer is outside the model's vocab_size " +
                            std::to_string(config.vocab_size) +
                            " (tokenizer and model do not match)",
                        Status::BadInput);
    if (text.second) out.split = int(encoding.split);
    return out;
}

namespace {

// The labels, split and length of maps whose values are now per word.
void adopt_word_groups(AttentionMaps& maps, const words::WordGroups& groups) {
    if (maps.split >= maps.seq)  // an empty second text
        maps.split = groups.count();
    else if (maps.split > 0)
        maps.split = groups.word_of_token[size_t(maps.split)];
    maps.seq = groups.count();
    maps.tokens = groups.labels;
    maps.word_of_token = groups.word_of_token;
}

}  // namespace

void merge_into_words(AttentionMaps& maps, words::TokenFamily family) {
    const words::WordGroups groups = words::group_words(maps.tokens, family, maps.split);
    maps.values = words::merge_words(maps.values, int(maps.layers.size()) * maps.n_head, maps.seq,
                                     groups.word_of_token, groups.count());
    adopt_word_groups(maps, groups);
}

AttentionMaps capture(Engine& engine, const ModelFiles& model, const EncodedInput& input,
                      const CaptureOptions& options, const LayerSink& sink, bool collect) {
    const Encoding& encoding = input.encoding;
    AttentionMaps maps;
    maps.name = model.dir.filename().string();
    maps.n_layer = model.config.n_layer;
    maps.seq = int(encoding.ids.size());
    maps.causal = arch_for(model.config.model_type).causal;
    maps.layers = parse_selection("layer", options.layers, maps.n_layer);
    const std::vector<int> heads = parse_selection("head", options.heads, model.config.n_head);
    const bool all_heads = int(heads.size()) == model.config.n_head;
    maps.n_head = int(heads.size());
    maps.tokens = token_strings(model.tokenizer, encoding.ids);
    maps.split = input.split;

    // Word groups are known before the forward, so each layer can be merged as it leaves the ring.
    std::optional<words::WordGroups> groups;
    if (options.words)
        groups = words::group_words(
            maps.tokens, words::family_of_model_type(model.config.model_type), maps.split);
    const int out_seq = groups ? groups->count() : maps.seq;

    std::vector<uint8_t> emit(size_t(maps.n_layer), 0);
    for (int l : maps.layers) emit[size_t(l)] = 1;
    ForwardRequest request;
    request.ids = encoding.ids;
    request.type_ids = encoding.type_ids;
    request.emit_layers = emit;
    const size_t per_map = size_t(maps.seq) * size_t(maps.seq);
    if (collect)
        maps.values.reserve(maps.layers.size() * heads.size() * size_t(out_seq) * size_t(out_seq));
    std::vector<float> picked;  // the selected heads of one layer, when not all
    std::vector<float> merged;  // one layer merged into words
    if (!all_heads) picked.resize(heads.size() * per_map);
    if (groups) merged.resize(heads.size() * size_t(out_seq) * size_t(out_seq));
    engine.run(request, [&](const AttentionSlot& slot) {
        std::span<const float> layer_maps = slot.maps;
        if (!all_heads) {
            for (size_t h = 0; h < heads.size(); ++h)
                std::copy_n(slot.maps.begin() + std::ptrdiff_t(size_t(heads[h]) * per_map), per_map,
                            picked.begin() + std::ptrdiff_t(h * per_map));
            layer_maps = picked;
        }
        if (groups) {
            words::merge_words_into(layer_maps, int(heads.size()), maps.seq, groups->word_of_token,
                                    out_seq, merged);
            layer_maps = merged;
        }
        if (sink && !sink(slot.layer, int(heads.size()), out_seq, out_seq, layer_maps))
            throw Error("the capture was cancelled by its layer callback", Status::Cancelled);
        if (collect) maps.values.insert(maps.values.end(), layer_maps.begin(), layer_maps.end());
    });
    if (groups) adopt_word_groups(maps, *groups);
    return maps;
}

}  // namespace headmap
