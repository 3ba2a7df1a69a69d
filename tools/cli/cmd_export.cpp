#include <cstdio>

#include "engine/engine.h"
#include "engine/error.h"
#include "engine/output_file.h"
#include "tools/cli/commands.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {

int cmd_export(const std::vector<std::string>& argv) {
    std::set<std::string> valued = kModelOptions;
    valued.insert({"out", "layers", "heads", "threads", "ring"});
    const Args args("export", argv, valued, {"truncate"});
    const std::filesystem::path out = args.required("out");
    if (out.extension() != ".npy")
        throw Error("--out " + out.string() + ": unsupported format (expected a .npy path)");
    ModelInput input = read_model_input(args, args.flag("truncate"));
    const ModelConfig& config = input.config;
    const std::vector<int> layers =
        parse_selection("layer", args.get("layers").value_or("all"), config.n_layer);
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), config.n_head);

    EngineOptions options;
    options.threads = args.get_int("threads", 0, 0, 1024);
    options.ring_slots = args.get_int("ring", 2, 1, 1024);
    options.max_seq = int(input.ids.size());  // the ring and arena need hold no more than this text
    Engine engine = Engine::load(input.model_dir, options);

    std::vector<uint8_t> emit(size_t(config.n_layer), 0);
    for (int l : layers) emit[size_t(l)] = 1;
    const int64_t S = int64_t(input.ids.size());
    NpyWriter writer(out, {int64_t(layers.size()), int64_t(heads.size()), S, S});
    ForwardRequest request;
    request.ids = input.ids;
    request.emit_layers = emit;
    // The consumer thread writes each layer while the next one computes.
    engine.run(request, [&](const AttentionSlot& slot) {
        for (int h : heads) writer.write(slot.head(h));
    });
    writer.commit();
    return 0;
}

}  // namespace headmap::cli
