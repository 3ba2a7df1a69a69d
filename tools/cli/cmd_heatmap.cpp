// headmap heatmap / regions / grid: one map (a head, or the mean or max across heads, of one
// layer), the same map with automatically found key regions, or every layer x head thumbnail.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"

namespace headmap::cli {
namespace {

const std::set<std::string> kHeatmapOptions =
    with(with(kMapSourceOptions, {"layer", "head", "top", "region", "label-interval",
                                  "length-threshold", "vmin", "vmax", "x-label", "y-label"}),
         {"out", "font", "scale", "colormap", "gamma", "title"});
const std::set<std::string> kHeatmapFlags = {"truncate", "question-context", "no-colorbar"};

viz::HeatmapOptions heatmap_options(const Args& args, const Maps& maps, int layer,
                                    const std::string& head) {
    viz::HeatmapOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.vmin = args.get_float("vmin", -1e9f, 1e9f);
    o.vmax = args.get_float("vmax", -1e9f, 1e9f);
    o.title = args.get("title").value_or(map_title(maps, layer, head));
    if (auto x = args.get("x-label")) o.x_label = *x;
    if (auto y = args.get("y-label")) o.y_label = *y;
    o.top = args.get_int("top", 0, 0, 1 << 20);
    o.regions = parse_regions(args.get_all("region"), maps.seq);
    o.causal_mask = maps.causal;
    o.length_threshold = args.get_int("length-threshold", o.length_threshold, 1, 1 << 20);
    o.label_interval = args.get_int("label-interval", 0, 0, 1 << 20);
    o.colorbar = !args.flag("no-colorbar");
    if (args.flag("question-context")) {
        if (maps.split < 1 || maps.split >= maps.seq)
            throw Error("--question-context needs a sentence pair (--text A --pair B)");
        o.question_split = maps.split;
    }
    return o;
}

struct OneMap {
    Maps maps;
    int layer;
    std::string head;
    std::vector<float> values;  // (S, S)
};

OneMap load_one_map(const Args& args) {
    OneMap one{load_maps(args, args.get("layer").value_or("-1"), args.flag("truncate")), 0, "", {}};
    if (one.maps.layers.size() != 1)
        throw Error("--layer takes one layer (got '" + args.get("layer").value_or("") + "')");
    one.layer = one.maps.layers.front();
    one.head = resolve_head(one.maps, args.get("head").value_or("mean"));
    one.values = select_map(one.maps, one.layer, one.head);
    return one;
}

}  // namespace

int cmd_heatmap(const std::vector<std::string>& argv) {
    const Args args("heatmap", argv, kHeatmapOptions, kHeatmapFlags);
    check_image_output(args);
    const viz::Font font = load_font(args);
    const OneMap one = load_one_map(args);
    const viz::HeatmapOptions options = heatmap_options(args, one.maps, one.layer, one.head);
    const viz::MapView map{one.values, one.maps.seq, one.maps.seq};
    write_view(args, viz::heatmap(font, map, one.maps.tokens, one.maps.tokens, options), font);
    return 0;
}

int cmd_regions(const std::vector<std::string>& argv) {
    std::set<std::string> valued =
        with(kHeatmapOptions, {"seeds", "min-distance", "expansion", "proximity", "merge"});
    const Args args("regions", argv, valued, kHeatmapFlags);
    if (args.get("out")) check_image_output(args);
    const OneMap one = load_one_map(args);
    viz::RegionOptions ro;
    ro.n_seeds = args.get_int("seeds", ro.n_seeds, 1, 1000);
    ro.min_distance = args.get_int("min-distance", ro.min_distance, 0, 1 << 20);
    ro.expansion_threshold =
        args.get_float("expansion", 0.0f, 10.0f).value_or(ro.expansion_threshold);
    ro.proximity_threshold = args.get_int("proximity", ro.proximity_threshold, 0, 1 << 20);
    ro.merge_threshold = args.get_float("merge", 0.01f, 10.0f).value_or(ro.merge_threshold);
    const viz::MapView map{one.values, one.maps.seq, one.maps.seq};
    const std::vector<viz::FoundRegion> found = viz::find_regions(map, ro);

    nlohmann::json out = {{"model", one.maps.name},
                          {"layer", one.layer},
                          {"head", one.head},
                          {"regions", nlohmann::json::array()}};
    for (size_t i = 0; i < found.size(); ++i) {
        const viz::CellRegion& c = found[i].cells;
        std::string label = "R";  // built piecewise: GCC 12 warns falsely on "R" + string
        label += std::to_string(i + 1);
        out["regions"].push_back(
            {{"label", label},
             {"rows", {c.r0, c.r1}},
             {"cols", {c.c0, c.c1}},
             {"row_tokens", {one.maps.tokens[size_t(c.r0)], one.maps.tokens[size_t(c.r1)]}},
             {"col_tokens", {one.maps.tokens[size_t(c.c0)], one.maps.tokens[size_t(c.c1)]}},
             {"mean", found[i].mean},
             {"score", found[i].score}});
    }
    if (args.get("out")) {
        const viz::Font font = load_font(args);
        const viz::HeatmapOptions options = heatmap_options(args, one.maps, one.layer, one.head);
        write_view(args, viz::regions(font, map, found, one.maps.tokens, one.maps.tokens, options),
                   font);
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

int cmd_grid(const std::vector<std::string>& argv) {
    const Args args("grid", argv,
                    with(with(kMapSourceOptions, {"layers", "heads", "thumb"}),
                         {"out", "font", "scale", "colormap", "gamma", "title"}),
                    {"truncate"});
    check_image_output(args);
    const viz::Font font = load_font(args);
    const Maps maps = load_maps(args, args.get("layers").value_or("all"), args.flag("truncate"));
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), maps.n_head);
    std::vector<float> picked;  // (layers, heads, S, S) of the chosen heads
    for (int l : maps.layers)
        for (int h : heads) {
            const auto m = maps.map(l, h);
            picked.insert(picked.end(), m.begin(), m.end());
        }
    viz::GridOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.thumb = args.get_float("thumb", 1.0f, 1000.0f).value_or(0.0f);
    o.title = args.get("title").value_or(maps.name + ": " + std::to_string(maps.layers.size()) +
                                         " layers x " + std::to_string(heads.size()) + " heads");
    o.causal_mask = maps.causal;
    write_view(args, viz::grid(font, picked, maps.layers, heads, maps.seq, o), font);
    return 0;
}

}  // namespace headmap::cli
