// headmap modularity: each head's map as a weighted token graph, its Louvain communities and
// their modularity Q (engine/analysis/modularity.h), printed per head; --out draws modularity by layer.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/analysis/modularity.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/modularity_view.h"
#include "tools/cli/view_common.h"
#include "viz/chart.h"

namespace headmap::cli {

viz::Scene modularity_chart(const viz::Font& font, const std::vector<HeadResult>& results,
                            const std::vector<int>& layers, const std::string& title) {
    std::vector<viz::ChartPoint> points;
    viz::ChartLine means;
    means.group = 1;
    for (int layer : layers) {
        double sum = 0;
        int count = 0;
        for (const HeadResult& r : results)
            if (r.layer == layer) {
                points.push_back({double(layer), r.communities.modularity, 0, "", false});
                sum += r.communities.modularity;
                ++count;
            }
        means.xs.push_back(double(layer));
        means.ys.push_back(sum / count);
    }
    viz::ChartOptions options;
    options.title = title;
    options.x_label = "layer";
    options.y_label = "modularity Q";
    options.group_names = {"head", "mean of heads"};
    options.integer_x_ticks = true;
    return viz::chart(font, points, std::span<const viz::ChartLine>(&means, 1), options);
}

namespace {

std::string results_text(const std::vector<HeadResult>& results, const std::string& format) {
    std::string text = format == "csv" ? "layer,head,modularity,communities\n"
                                       : "layer head modularity communities\n";
    for (const HeadResult& r : results) {
        char line[96];
        std::snprintf(line, sizeof line,
                      format == "csv" ? "%d,%d,%.9g,%d\n" : "%5d %4d %10.6f %11d\n", r.layer,
                      r.head, r.communities.modularity, r.communities.count);
        text += line;
    }
    return text;
}

}  // namespace

int cmd_modularity(const Args& args) {
    const std::string format = args.get("format").value_or("table");
    if (format != "table" && format != "json" && format != "csv")
        throw Error("--format '" + format + "' (expected table, json or csv)");
    if (args.get("out"))
        check_image_output(args);
    else
        reject_draw_options(args, "--out FILE.png|svg|pdf");
    const int threads = args.get_int("threads", 0, 0, 1024);
    const Maps maps = load_maps(args, args.get("layers").value_or("all"), args.flag("truncate"));
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), maps.n_head);

    // The picked heads' maps, (layers x heads, S, S), layer-major: the loaded maps themselves
    // when every head is picked (at S = 512 they are 150 MB for GPT-2 small), else a copy.
    std::vector<HeadResult> results;
    for (int l : maps.layers)
        for (int h : heads) results.push_back({l, h, {}});
    std::span<const float> picked = maps.values;
    std::vector<float> some_heads;
    if (int(heads.size()) != maps.n_head) {
        some_heads.reserve(results.size() * size_t(maps.seq) * size_t(maps.seq));
        for (const HeadResult& r : results) {
            const std::span<const float> map = maps.map(r.layer, r.head);
            some_heads.insert(some_heads.end(), map.begin(), map.end());
        }
        picked = some_heads;
    }
    std::vector<analysis::Communities> found =
        analysis::head_modularity(picked, int(results.size()), maps.seq, maps.causal, threads);
    for (size_t i = 0; i < results.size(); ++i) results[i].communities = std::move(found[i]);

    // The picture first: if it fails, nothing was printed.
    if (args.get("out")) {
        const viz::Font font = load_font(args);
        const std::string title = args.get("title").value_or(maps.name + ": modularity by layer");
        write_view(args, modularity_chart(font, results, maps.layers, title), font);
    }
    if (format != "json") {
        std::fputs(results_text(results, format).c_str(), stdout);
        return 0;
    }
    nlohmann::json json = {{"model", maps.name},
                           {"seq", maps.seq},
                           {"causal", maps.causal},
                           {"tokens", maps.tokens},
                           {"seed", analysis::kLouvainSeed},
                           {"heads", nlohmann::json::array()},
                           {"layers", nlohmann::json::array()}};
    for (int l : maps.layers) {
        double sum = 0;
        for (const HeadResult& r : results)
            if (r.layer == l) {
                json["heads"].push_back({{"layer", r.layer},
                                         {"head", r.head},
                                         {"modularity", r.communities.modularity},
                                         {"communities", r.communities.count},
                                         {"community", r.communities.community}});
                sum += r.communities.modularity;
            }
        json["layers"].push_back({{"layer", l}, {"mean_modularity", sum / double(heads.size())}});
    }
    std::fputs((json.dump() + "\n").c_str(), stdout);
    return 0;
}

}  // namespace headmap::cli
