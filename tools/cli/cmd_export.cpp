#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/capture/export.h"
#include "engine/engine.h"
#include "engine/output_file.h"
#include "engine/safetensors.h"
#include "engine/analysis/words.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {
namespace {

constexpr std::string_view kIndexPlaceholder = "{i}";

// --out for input `index`: each "{i}" becomes the index, zero-padded to the width of the count.
std::filesystem::path output_path(const std::string& pattern, size_t index, size_t count) {
    std::string number = std::to_string(index);
    const size_t width = std::to_string(count - 1).size();
    if (number.size() < width) number.insert(0, width - number.size(), '0');
    std::string path = pattern;
    for (size_t at = path.find(kIndexPlaceholder); at != std::string::npos;
         at = path.find(kIndexPlaceholder, at + number.size()))
        path.replace(at, kIndexPlaceholder.size(), number);
    return path;
}

// Everything one text's export holds besides the maps.
struct ExportMeta {
    const ModelInput& input;
    const Encoding& encoding;
    const std::vector<int>& layers;
    const std::vector<int>& heads;
    const words::WordGroups* words;  // --words: the maps are per word; else nullptr
};

// .npz, .safetensors or .json of one text's maps (L', H', S, S), gathered in memory; with
// --words (L', H', W, W), the words as `tokens` and each token's word as `word_ids`.
void write_collected(const std::filesystem::path& path, ExportFormat format, const ExportMeta& m,
                     std::span<const float> maps) {
    ExportContents contents;
    contents.maps = maps;
    contents.seq = m.words ? m.words->count() : int(m.encoding.ids.size());
    contents.model = m.input.model_dir.filename().string();
    contents.config = m.input.config;
    contents.ids = m.encoding.ids;
    contents.type_ids = m.encoding.type_ids;
    contents.tokens = m.words ? m.words->labels : token_strings(m.input.tokenizer, m.encoding.ids);
    contents.layers = m.layers;
    contents.heads = m.heads;
    if (m.words)
        contents.word_ids.assign(m.words->word_of_token.begin(), m.words->word_of_token.end());
    const std::vector<std::byte> bytes = export_bytes(format, contents, path.string());
    AtomicOutputFile file(path);
    file.write(bytes);
    file.commit();
}

}  // namespace

int cmd_export(const Args& args) {
    const std::string out_pattern = args.required("out");
    const ExportFormat format = [&] {
        try {
            return export_format_for(out_pattern);
        } catch (const Error& e) {
            throw Error(std::string("--out ") + e.what(), e.status());  // the CLI's name for it
        }
    }();
    ModelInput input = read_model_input(args, args.flag("truncate"));
    const size_t count = input.inputs.size();
    if (count > 1 && out_pattern.find(kIndexPlaceholder) == std::string::npos)
        throw Error("--out " + out_pattern + ": " + std::to_string(count) +
                    " texts need one file each (expected a path with {i}, e.g. attn_{i}.npy)");
    // Every output path is tried before any file is written: a bad path for text 7 once failed
    // the run after texts 0..6 had been written. (Each probe makes and removes its temp file.)
    if (count > 1)
        for (size_t i = 0; i < count; ++i)
            AtomicOutputFile probe(output_path(out_pattern, i, count));
    const ModelConfig& config = input.config;
    const std::vector<int> layers =
        parse_selection("layer", args.get("layers").value_or("all"), config.n_layer);
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), config.n_head);

    EngineOptions options;
    options.threads = args.get_int("threads", 0, 0, 1024);
    options.ring_slots = args.get_int("ring", 2, 1, 1024);
    options.max_seq = int(input.longest);  // the ring and arena need hold no more than this
    apply_device_options(args, options);
    Engine engine = Engine::load(input.model_dir, options);

    std::vector<uint8_t> emit(size_t(config.n_layer), 0);
    for (int l : layers) emit[size_t(l)] = 1;
    // Each text runs at its own length; nothing is padded.
    for (size_t i = 0; i < count; ++i) {
        const Encoding& encoding = input.inputs[i];
        const int64_t S = int64_t(encoding.ids.size());
        const std::filesystem::path path = output_path(out_pattern, i, count);
        ForwardRequest request;
        request.ids = encoding.ids;
        request.type_ids = encoding.type_ids;
        request.emit_layers = emit;
        std::optional<words::WordGroups> groups;  // --words
        if (args.flag("words"))
            groups =
                words::group_words(token_strings(input.tokenizer, encoding.ids),
                                   words::family_of_model_type(config.model_type), input.splits[i]);
        if (format == ExportFormat::Npy) {
            const int64_t side = groups ? int64_t(groups->count()) : S;
            NpyWriter writer(path, {int64_t(layers.size()), int64_t(heads.size()), side, side});
            std::vector<float> merged(size_t(side * side));  // (W, W), reused for every head
            // The consumer thread writes each layer while the next one computes.
            engine.run(request, [&](const AttentionSlot& slot) {
                for (int h : heads) {
                    if (!groups) {
                        writer.write(slot.head(h));
                        continue;
                    }
                    words::merge_words_into(slot.head(h), 1, int(S), groups->word_of_token,
                                            groups->count(), merged);
                    writer.write(merged);
                }
            });
            writer.commit();
            continue;
        }
        std::vector<float> maps;  // the other formats need every map before writing
        engine.run(request, [&](const AttentionSlot& slot) {
            for (int h : heads) maps.insert(maps.end(), slot.head(h).begin(), slot.head(h).end());
        });
        if (groups)
            maps = words::merge_words(maps, int(layers.size() * heads.size()), int(S),
                                      groups->word_of_token, groups->count());
        write_collected(path, format,
                        ExportMeta{input, encoding, layers, heads, groups ? &*groups : nullptr},
                        maps);
    }
    return 0;
}

}  // namespace headmap::cli
