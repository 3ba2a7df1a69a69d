// headmap stats / rollout: per-head statistics of every layer's maps (table, JSON or CSV), and
// attention rollout as a map (.npy, or drawn as a heatmap).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/analysis.h"
#include "engine/error.h"
#include "engine/output_file.h"
#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"

namespace headmap::cli {

int cmd_stats(const std::vector<std::string>& argv) {
    const Args args("stats", argv,
                    with(kMapSourceOptions, {"layers", "heads", "format", "threshold"}),
                    {"truncate"});
    const std::string format = args.get("format").value_or("table");
    if (format != "table" && format != "json" && format != "csv")
        throw Error("--format '" + format + "' (expected table, json or csv)");
    const double threshold = args.get_float("threshold", 0.0f, 1.0f).value_or(0.01f);
    const Maps maps = load_maps(args, args.get("layers").value_or("all"), args.flag("truncate"));
    const std::vector<int> heads =
        parse_selection("head", args.get("heads").value_or("all"), maps.n_head);
    const std::vector<std::string>& names = analysis::metric_names();

    nlohmann::json json = {{"model", maps.name},
                           {"seq", maps.seq},
                           {"causal", maps.causal},
                           {"tokens", maps.tokens},
                           {"heads", nlohmann::json::array()}};
    std::string text;
    if (format != "json") {
        const char* sep = format == "csv" ? "," : " ";
        text += format == "csv" ? "layer,head" : "layer head";
        for (const std::string& n : names) text += sep + n;
        text += std::string(sep) + "hub_token" + sep + "hub_sum\n";
    }
    for (int l : maps.layers)
        for (int h : heads) {
            const analysis::HeadStats s =
                analysis::head_stats(maps.map(l, h), maps.seq, maps.causal, threshold);
            const size_t hub = size_t(std::max_element(s.column_sums.begin(), s.column_sums.end()) -
                                      s.column_sums.begin());
            if (format == "json") {
                nlohmann::json head = {{"layer", l}, {"head", h}, {"column_sums", s.column_sums}};
                for (const std::string& n : names) head[n] = analysis::metric(s, n);
                json["heads"].push_back(head);
                continue;
            }
            char cell[64];
            std::snprintf(cell, sizeof cell, format == "csv" ? "%d,%d" : "%5d %4d", l, h);
            text += cell;
            for (const std::string& n : names) {
                std::snprintf(cell, sizeof cell, format == "csv" ? ",%.6g" : " %.4f",
                              analysis::metric(s, n));
                text += cell;
            }
            std::string token = maps.tokens[hub];
            if (format == "csv" && token.find_first_of(",\"") != std::string::npos) {
                std::string quoted = "\"";
                for (char c : token) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
                token = quoted + "\"";
            }
            std::snprintf(cell, sizeof cell, format == "csv" ? ",%.6g\n" : " %.4f\n",
                          s.column_sums[hub]);
            text += (format == "csv" ? "," : " ") + token + cell;
        }
    if (format == "json") text = json.dump() + "\n";
    std::fputs(text.c_str(), stdout);
    return 0;
}

int cmd_rollout(const std::vector<std::string>& argv) {
    const Args args("rollout", argv,
                    with(with(kMapSourceOptions, {"fusion", "discard"}),
                         {"out", "font", "scale", "colormap", "gamma", "title"}),
                    {"truncate"});
    const std::filesystem::path out = args.required("out");
    const bool npy = out.extension() == ".npy";
    if (!npy) check_image_output(args);
    const std::string fusion_name = args.get("fusion").value_or("mean");
    const analysis::HeadFusion fusion =
        fusion_name == "mean"  ? analysis::HeadFusion::Mean
        : fusion_name == "max" ? analysis::HeadFusion::Max
        : fusion_name == "min"
            ? analysis::HeadFusion::Min
            : throw Error("--fusion '" + fusion_name + "' (expected mean, max or min)");
    const double discard = args.get_float("discard", 0.0f, 0.99f).value_or(0.0f);
    const Maps maps = load_maps(args, "all", args.flag("truncate"));
    const std::vector<float> rolled = analysis::rollout(maps.values, int(maps.layers.size()),
                                                        maps.n_head, maps.seq, fusion, discard);
    if (npy) {
        NpyWriter writer(out, {maps.seq, maps.seq});
        writer.write(rolled);
        writer.commit();
        return 0;
    }
    const viz::Font font = load_font(args);
    viz::HeatmapOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.causal_mask = maps.causal;
    o.title =
        args.get("title").value_or(maps.name + ": attention rollout (" + fusion_name +
                                   " of heads, " + std::to_string(maps.layers.size()) + " layers)");
    write_view(
        args,
        viz::heatmap(font, viz::MapView{rolled, maps.seq, maps.seq}, maps.tokens, maps.tokens, o),
        font);
    return 0;
}

}  // namespace headmap::cli
