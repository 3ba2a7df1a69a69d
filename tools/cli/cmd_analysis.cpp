// headmap rollout and flow: attention rollout and attention flow as a map (.npy, or drawn as a
// heatmap). headmap stats is in cmd_stats.cpp.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/analysis/analysis.h"
#include "engine/analysis/flow.h"
#include "engine/output_file.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"

namespace headmap::cli {

namespace {

// What rollout and flow share: the options (map source, --fusion, --discard, --out and the drawing
// options), the maps of every layer, and the output, an (S, S) map over the tokens written as .npy
// or drawn as a heatmap. Only the analysis differs.
struct LayerAnalysis {
    const char* what;  // "attention rollout", for the title
    // `threads`: --threads N (0: every hardware thread), where the command takes it.
    std::vector<float> (*run)(std::span<const float> maps, int layers, int heads, int seq,
                              analysis::HeadFusion fusion, double discard, int threads);
};

int run_layer_analysis(const LayerAnalysis& spec, const Args& args) {
    const std::filesystem::path out = args.required("out");
    const bool npy = lower_extension(out) == ".npy";
    if (npy) {
        reject_draw_options(args, "an image --out (.png, .svg or .pdf)");
    } else {
        try {
            check_image_output(args);
        } catch (const Error&) {  // name .npy too, which this command also writes
            throw Error("--out " + out.string() +
                        ": unsupported format (expected .npy for the matrix, or .png, .svg or "
                        ".pdf for its picture)");
        }
    }
    const std::string fusion_name = args.get("fusion").value_or("mean");
    const analysis::HeadFusion fusion =
        fusion_name == "mean"  ? analysis::HeadFusion::Mean
        : fusion_name == "max" ? analysis::HeadFusion::Max
        : fusion_name == "min"
            ? analysis::HeadFusion::Min
            : throw Error("--fusion '" + fusion_name + "' (expected mean, max or min)");
    const double discard = args.get_float("discard", 0.0f, 0.99f).value_or(0.0f);
    int threads = args.get_int("threads", 0, 0, 1024);
    if (threads == 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    const Maps maps = load_maps(args, "all", args.flag("truncate"));
    const std::vector<float> result = spec.run(maps.values, int(maps.layers.size()), maps.n_head,
                                               maps.seq, fusion, discard, threads);
    if (npy) {
        NpyWriter writer(out, {maps.seq, maps.seq});
        writer.write(result);
        writer.commit();
        return 0;
    }
    const viz::Font font = load_font(args);
    viz::HeatmapOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.causal_mask = maps.causal;
    std::string title = maps.name;  // built piecewise: GCC 12 warns on "literal" + string
    title += std::string(": ") + spec.what + " (" + fusion_name + " of heads, " +
             std::to_string(maps.layers.size()) + " layers)";
    o.title = args.get("title").value_or(title);
    write_view(
        args,
        viz::heatmap(font, viz::MapView{result, maps.seq, maps.seq}, maps.tokens, maps.tokens, o),
        font);
    return 0;
}

}  // namespace

int cmd_rollout(const Args& args) {
    return run_layer_analysis(
        {"attention rollout",
         [](std::span<const float> maps, int layers, int heads, int seq,
            analysis::HeadFusion fusion, double discard,
            int) { return analysis::rollout(maps, layers, heads, seq, fusion, discard); }},
        args);
}

int cmd_flow(const Args& args) {
    return run_layer_analysis({"attention flow", analysis::attention_flow}, args);
}

}  // namespace headmap::cli
