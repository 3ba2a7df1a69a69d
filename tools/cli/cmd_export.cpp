#include <cstdio>

#include "engine/engine.h"
#include "engine/error.h"
#include "engine/output_file.h"
#include "tools/cli/commands.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {
namespace {

constexpr std::string_view kIndexPlaceholder = "{i}";

// --out for input `index`: "{i}" becomes the index, zero-padded to the width of the count.
std::filesystem::path output_path(const std::string& pattern, size_t index, size_t count) {
    const size_t at = pattern.find(kIndexPlaceholder);
    if (at == std::string::npos) return pattern;
    std::string number = std::to_string(index);
    const size_t width = std::to_string(count - 1).size();
    if (number.size() < width) number.insert(0, width - number.size(), '0');
    std::string path = pattern;
    path.replace(at, kIndexPlaceholder.size(), number);
    return path;
}

}  // namespace

int cmd_export(const std::vector<std::string>& argv) {
    std::set<std::string> valued = kModelOptions;
    valued.insert({"out", "layers", "heads", "threads", "ring"});
    const Args args("export", argv, valued, {"truncate"});
    const std::string out_pattern = args.required("out");
    if (std::filesystem::path(out_pattern).extension() != ".npy")
        throw Error("--out " + out_pattern + ": unsupported format (expected a .npy path)");
    ModelInput input = read_model_input(args, args.flag("truncate"));
    const size_t count = input.inputs.size();
    if (count > 1 && out_pattern.find(kIndexPlaceholder) == std::string::npos)
        throw Error("--out " + out_pattern + ": " + std::to_string(count) +
                    " texts need one file each (expected a path with {i}, e.g. attn_{i}.npy)");
    const ModelConfig& config = input.config;
    const std::vector<int> layers =
        parse_selection("layer", args.get("layers").value_or("all"), config.n_layer);
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), config.n_head);

    EngineOptions options;
    options.threads = args.get_int("threads", 0, 0, 1024);
    options.ring_slots = args.get_int("ring", 2, 1, 1024);
    options.max_seq = int(input.longest);  // the ring and arena need hold no more than this
    Engine engine = Engine::load(input.model_dir, options);

    std::vector<uint8_t> emit(size_t(config.n_layer), 0);
    for (int l : layers) emit[size_t(l)] = 1;
    // Each text runs at its own length; nothing is padded.
    for (size_t i = 0; i < count; ++i) {
        const Encoding& encoding = input.inputs[i];
        const int64_t S = int64_t(encoding.ids.size());
        NpyWriter writer(output_path(out_pattern, i, count),
                         {int64_t(layers.size()), int64_t(heads.size()), S, S});
        ForwardRequest request;
        request.ids = encoding.ids;
        request.type_ids = encoding.type_ids;
        request.emit_layers = emit;
        // The consumer thread writes each layer while the next one computes.
        engine.run(request, [&](const AttentionSlot& slot) {
            for (int h : heads) writer.write(slot.head(h));
        });
        writer.commit();
    }
    return 0;
}

}  // namespace headmap::cli
