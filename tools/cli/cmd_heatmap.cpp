// headmap heatmap / regions / grid: one map (a head, or the mean or max across heads, of one
// layer), the same map with automatically found key regions, or every layer x head thumbnail.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/analysis/analysis.h"
#include "engine/analysis/heads.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"

namespace headmap::cli {
namespace {

viz::HeatmapOptions heatmap_options(const Args& args, const Maps& maps, int layer,
                                    const std::string& head) {
    viz::HeatmapOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.vmin = args.get_float("vmin", -1e9f, 1e9f);
    o.vmax = args.get_float("vmax", -1e9f, 1e9f);
    o.clip_percentile = clip_option(args);
    o.title = args.get("title").value_or(map_title(maps, layer, head));
    set_axis_labels(args, maps, o.x_label, o.y_label);
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

int cmd_heatmap(const Args& args) {
    check_image_output(args);
    const viz::Font font = load_font(args);
    const OneMap one = load_one_map(args);
    const viz::HeatmapOptions options = heatmap_options(args, one.maps, one.layer, one.head);
    const viz::MapView map{one.values, one.maps.seq, one.maps.seq};
    write_view(args, viz::heatmap(font, map, one.maps.tokens, one.maps.tokens, options), font);
    return 0;
}

int cmd_regions(const Args& args) {
    if (args.get("out"))
        check_image_output(args);
    else
        reject_draw_options(args, "--out FILE.png|svg|pdf");
    const OneMap one = load_one_map(args);
    viz::RegionOptions ro;
    ro.n_seeds = args.get_int("seeds", ro.n_seeds, 1, 1000);
    ro.min_distance = args.get_int("min-distance", ro.min_distance, 0, 1 << 20);
    ro.expansion_threshold =
        args.get_float("expansion", 0.0f, 10.0f).value_or(ro.expansion_threshold);
    ro.proximity_threshold = args.get_int("proximity", ro.proximity_threshold, 0, 1 << 20);
    ro.merge_threshold = args.get_float("merge", 0.01f, 10.0f).value_or(ro.merge_threshold);
    ro.skip_sinks = !args.flag("keep-sinks");
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

namespace {

// grid --rank METRIC: each shown head's metric (on the shown maps); --top N outlines the N best
// heads of the whole grid, --sort orders each layer's row best first and labels every thumbnail
// with its head. "Best" is the largest value, or the smallest with --ascending.
struct GridRanking {
    std::string metric;
    bool ascending = false;
    int top = 0;
    bool sort = false;
};

std::optional<GridRanking> grid_ranking(const Args& args) {
    const std::optional<std::string> metric = args.get("rank");
    const int top = args.get_int("top", 0, 1, 1 << 20);
    const bool sort = args.flag("sort"), ascending = args.flag("ascending");
    if (!metric) {
        if (top > 0 || sort || ascending)
            throw Error("--top, --sort and --ascending rank heads: give --rank METRIC");
        return std::nullopt;
    }
    analysis::metric(analysis::HeadStats{}, *metric);  // throws, listing the known metrics
    if (top == 0 && !sort) throw Error("--rank " + *metric + " needs --top N, --sort or both");
    return GridRanking{*metric, ascending, top, sort};
}

}  // namespace

int cmd_grid(const Args& args) {
    check_image_output(args);
    const std::optional<GridRanking> ranking = grid_ranking(args);
    const double threshold = args.get_float("threshold", 0.0f, 1.0f).value_or(0.01f);
    const viz::Font font = load_font(args);
    const Maps maps = load_maps(args, args.get("layers").value_or("all"), args.flag("truncate"));
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), maps.n_head);
    const size_t n_heads = heads.size(), n_thumbs = maps.layers.size() * n_heads;

    // display[i]: the head (index into `heads`) drawn at thumbnail i (layer-major).
    std::vector<size_t> display(n_thumbs);
    for (size_t i = 0; i < n_thumbs; ++i) display[i] = i % n_heads;
    std::vector<double> values(n_thumbs);  // (layers, heads) the metric, unsorted
    viz::GridOptions o;
    o.clip_percentile = clip_option(args);
    if (ranking) {
        for (size_t i = 0; i < n_thumbs; ++i) {
            const analysis::HeadStats s =
                analysis::head_stats(maps.map(maps.layers[i / n_heads], heads[i % n_heads]),
                                     maps.seq, maps.causal, threshold);
            values[i] = analysis::metric(s, ranking->metric);
        }
        if (ranking->sort) {
            for (size_t l = 0; l < maps.layers.size(); ++l) {
                const std::vector<int> order = analysis::rank_by(
                    std::span(values).subspan(l * n_heads, n_heads), ranking->ascending);
                for (size_t k = 0; k < n_heads; ++k) display[l * n_heads + k] = size_t(order[k]);
            }
            for (size_t k = 0; k < n_heads; ++k)
                o.column_labels.push_back(std::string("#").append(std::to_string(k + 1)));
            for (size_t i = 0; i < n_thumbs; ++i)
                o.cell_labels.push_back(std::string("H").append(std::to_string(heads[display[i]])));
        }
        if (ranking->top > 0) {
            std::vector<size_t> shown_at(n_thumbs);  // head -> its thumbnail
            for (size_t i = 0; i < n_thumbs; ++i)
                shown_at[(i / n_heads) * n_heads + display[i]] = i;
            const std::vector<int> best = analysis::rank_by(values, ranking->ascending);
            for (size_t k = 0; k < std::min(size_t(ranking->top), best.size()); ++k)
                o.outlined.push_back(int(shown_at[size_t(best[k])]));
        }
    }
    std::vector<float> picked;  // (layers, heads, S, S) of the chosen heads, in display order
    for (size_t i = 0; i < n_thumbs; ++i) {
        const auto m = maps.map(maps.layers[i / n_heads], heads[display[i]]);
        picked.insert(picked.end(), m.begin(), m.end());
    }
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.thumb = args.get_float("thumb", 1.0f, 1000.0f).value_or(0.0f);
    std::string title = maps.name + ": " + std::to_string(maps.layers.size()) + " layers x " +
                        std::to_string(n_heads) + " heads";
    if (ranking) {
        const std::string order = ranking->ascending ? " (lowest first)" : "";
        if (ranking->top > 0)
            title += ", top " + std::to_string(ranking->top) + " by " + ranking->metric +
                     " outlined" + order;
        if (ranking->sort) title += ", rows sorted by " + ranking->metric + order;
    }
    o.title = args.get("title").value_or(title);
    o.causal_mask = maps.causal;
    write_view(args, viz::grid(font, picked, maps.layers, heads, maps.seq, o), font);
    return 0;
}

}  // namespace headmap::cli
