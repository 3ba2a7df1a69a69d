// headmap heads: heads ranked by one metric, clustered by their metric profiles (robust scaling,
// Ward linkage, medoids), and the 2-D PCA scatter of heads coloured by cluster. The per-head
// metrics come from the HeadTable: one text, saved maps, or mean over a corpus (--texts).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/analysis/analysis.h"
#include "engine/analysis/heads.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/head_table.h"
#include "tools/cli/view_common.h"
#include "viz/chart.h"
#include "viz/render.h"

namespace headmap::cli {
namespace {

struct HeadsRequest {
    std::string format = "table";
    std::optional<std::string> rank_metric;
    bool ascending = false;
    int top = 0;  // 0: every head
    int clusters = 0;
    std::vector<std::string> features;  // empty: every metric
    std::optional<std::filesystem::path> scatter;
};

// Everything checked before the maps load, so a bad command line fails at once.
HeadsRequest parse_request(const Args& args) {
    HeadsRequest r;
    r.format = args.get("format").value_or("table");
    if (r.format != "table" && r.format != "json" && r.format != "csv")
        throw Error("--format '" + r.format + "' (expected table, json or csv)");
    r.rank_metric = args.get("rank");
    if (r.rank_metric) analysis::metric(analysis::HeadStats{}, *r.rank_metric);  // known name?
    r.ascending = args.flag("ascending");
    r.top = args.get_int("top", 0, 1, 1 << 20);
    if ((r.top > 0 || r.ascending) && !r.rank_metric)
        throw Error("--top and --ascending order a ranking: give --rank METRIC");
    r.clusters = args.get_int("clusters", 0, 1, 1 << 20);
    if (auto list = args.get("features")) {
        size_t start = 0;
        for (;;) {
            const size_t comma = list->find(',', start);
            const std::string name = list->substr(start, comma - start);
            analysis::metric(analysis::HeadStats{}, name);  // throws, listing the known names
            if (std::find(r.features.begin(), r.features.end(), name) != r.features.end())
                throw Error("--features lists '" + name + "' twice");
            r.features.push_back(name);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (auto path = args.get("scatter")) {
        r.scatter = *path;
        try {
            viz::format_for(*r.scatter);
        } catch (const Error&) {
            throw Error("--scatter " + *path +
                        ": unsupported image format (expected .png, .svg or .pdf)");
        }
    }
    if (!r.rank_metric && r.clusters == 0 && !r.scatter)
        throw Error("'heads' needs --rank METRIC, --clusters K or --scatter FILE.png|svg|pdf");
    if (r.format == "csv" && r.rank_metric && r.clusters > 0)
        throw Error("--format csv holds one table: give --rank or --clusters, not both");
    return r;
}

std::string head_name(const HeadTable& t, size_t row) {
    return head_label(t.layers[row / t.heads.size()], t.heads[row % t.heads.size()]);
}
int layer_of(const HeadTable& t, size_t row) {
    return t.layers[row / t.heads.size()];
}
int head_of(const HeadTable& t, size_t row) {
    return t.heads[row % t.heads.size()];
}

// The feature matrix (rows, features), robust-scaled.
std::vector<double> scaled_features(const HeadTable& t, const std::vector<std::string>& names) {
    std::vector<size_t> columns;
    for (const std::string& n : names) columns.push_back(t.metric_index(n));
    std::vector<double> x;
    x.reserve(t.rows() * columns.size());
    for (size_t row = 0; row < t.rows(); ++row)
        for (size_t c : columns) x.push_back(t.mean_at(row, c));
    return analysis::robust_scale(x, int(t.rows()), int(columns.size()));
}

struct Clustering {
    std::vector<int> labels;   // (rows) 0..k-1, numbered by lowest member
    std::vector<int> medoids;  // (k) rows
    std::vector<int> sizes;    // (k)
};

Clustering cluster_heads(std::span<const double> x, int rows, int d, int k) {
    Clustering c;
    const std::vector<analysis::Merge> merges = analysis::ward_linkage(x, rows, d);
    c.labels = analysis::cut_clusters(merges, rows, k);
    c.medoids = analysis::cluster_medoids(x, rows, d, c.labels, k);
    c.sizes.assign(size_t(k), 0);
    for (int label : c.labels) ++c.sizes[size_t(label)];
    return c;
}

void print_ranking(const HeadTable& t, const HeadsRequest& r, nlohmann::json& json,
                   std::string& text) {
    const size_t column = t.metric_index(*r.rank_metric);
    std::vector<double> values(t.rows());
    for (size_t row = 0; row < t.rows(); ++row) values[row] = t.mean_at(row, column);
    std::vector<int> order = analysis::rank_by(values, r.ascending);
    if (r.top > 0 && size_t(r.top) < order.size()) order.resize(size_t(r.top));
    const bool with_std = t.texts > 1;
    const std::string& metric = *r.rank_metric;
    if (r.format == "json") {
        nlohmann::json ranked = nlohmann::json::array();
        for (size_t i = 0; i < order.size(); ++i) {
            const size_t row = size_t(order[i]);
            nlohmann::json entry = {{"rank", i + 1},
                                    {"layer", layer_of(t, row)},
                                    {"head", head_of(t, row)},
                                    {"value", t.mean_at(row, column)}};
            if (with_std) entry["std"] = t.std_at(row, column);
            ranked.push_back(entry);
        }
        json["ranking"] = {{"metric", metric}, {"ascending", r.ascending}, {"heads", ranked}};
        return;
    }
    const bool csv = r.format == "csv";
    text += csv ? "rank,layer,head," : "rank layer head ";
    text += metric;
    text += with_std ? (csv ? ",std\n" : " std\n") : "\n";
    char line[128];
    for (size_t i = 0; i < order.size(); ++i) {
        const size_t row = size_t(order[i]);
        std::snprintf(line, sizeof line, csv ? "%zu,%d,%d,%.6g" : "%4zu %5d %4d %.4f", i + 1,
                      layer_of(t, row), head_of(t, row), t.mean_at(row, column));
        text += line;
        if (with_std) {
            std::snprintf(line, sizeof line, csv ? ",%.6g" : " %.4f", t.std_at(row, column));
            text += line;
        }
        text += '\n';
    }
}

void print_clusters(const HeadTable& t, const HeadsRequest& r, const Clustering& c,
                    const std::vector<std::string>& features, nlohmann::json& json,
                    std::string& text) {
    std::vector<char> is_medoid(t.rows(), 0);
    for (int m : c.medoids) is_medoid[size_t(m)] = 1;
    if (r.format == "json") {
        nlohmann::json clusters = nlohmann::json::array(), heads = nlohmann::json::array();
        for (size_t k = 0; k < c.medoids.size(); ++k) {
            nlohmann::json members = nlohmann::json::array();
            for (size_t row = 0; row < t.rows(); ++row)
                if (c.labels[row] == int(k)) members.push_back({layer_of(t, row), head_of(t, row)});
            const size_t m = size_t(c.medoids[k]);
            clusters.push_back({{"cluster", k + 1},
                                {"size", c.sizes[k]},
                                {"medoid", {{"layer", layer_of(t, m)}, {"head", head_of(t, m)}}},
                                {"heads", members}});
        }
        for (size_t row = 0; row < t.rows(); ++row)
            heads.push_back({{"layer", layer_of(t, row)},
                             {"head", head_of(t, row)},
                             {"cluster", c.labels[row] + 1},
                             {"medoid", bool(is_medoid[row])}});
        json["clustering"] = {{"k", c.medoids.size()},
                              {"features", features},
                              {"scaling", "robust: (x - median) / IQR per feature"},
                              {"linkage", "ward"},
                              {"clusters", clusters},
                              {"heads", heads}};
        return;
    }
    const bool csv = r.format == "csv";
    if (!text.empty()) text += '\n';
    text += csv ? "layer,head,cluster,medoid\n" : "layer head cluster medoid\n";
    char line[96];
    for (size_t row = 0; row < t.rows(); ++row) {
        if (csv)
            std::snprintf(line, sizeof line, "%d,%d,%d,%d\n", layer_of(t, row), head_of(t, row),
                          c.labels[row] + 1, int(is_medoid[row]));
        else
            std::snprintf(line, sizeof line, "%5d %4d %7d%s\n", layer_of(t, row), head_of(t, row),
                          c.labels[row] + 1, is_medoid[row] ? "      *" : "");
        text += line;
    }
    if (!csv) {
        for (size_t k = 0; k < c.medoids.size(); ++k) {
            std::snprintf(line, sizeof line, "# cluster %zu: %d head%s, medoid ", k + 1, c.sizes[k],
                          c.sizes[k] == 1 ? "" : "s");
            text += line + head_name(t, size_t(c.medoids[k])) + "\n";
        }
    }
}

viz::Scene scatter_scene(const viz::Font& font, const HeadTable& t, const Args& args, int d,
                         const analysis::Pca2& pca, const Clustering* c) {
    std::vector<viz::ChartPoint> points(t.rows());
    std::vector<char> is_medoid(t.rows(), 0);
    if (c)
        for (int m : c->medoids) is_medoid[size_t(m)] = 1;
    for (size_t row = 0; row < t.rows(); ++row) {
        viz::ChartPoint& p = points[row];
        p.x = pca.scores[row * 2];
        p.y = pca.scores[row * 2 + 1];
        p.group = c ? c->labels[row] : 0;
        p.label = head_name(t, row);
        p.emphasised = is_medoid[row];
    }
    viz::ChartOptions o;
    char axis[64];
    std::snprintf(axis, sizeof axis, "PC1 (%.1f%% of variance)", 100 * pca.explained[0]);
    o.x_label = axis;
    std::snprintf(axis, sizeof axis, "PC2 (%.1f%% of variance)", 100 * pca.explained[1]);
    o.y_label = axis;
    std::string title = t.model + ": " + std::to_string(t.rows()) + " heads, PCA of " +
                        std::to_string(d) + " robust-scaled metrics";
    if (t.texts > 1) title += " (mean over " + std::to_string(t.texts) + " texts)";
    if (c) {
        title += ", " + std::to_string(c->medoids.size()) + " Ward clusters";
        for (size_t k = 0; k < c->medoids.size(); ++k) {
            std::string name = "cluster ";  // built piecewise (GCC 12 -Wrestrict)
            name += std::to_string(k + 1) + " (" + std::to_string(c->sizes[k]) + ")";
            o.group_names.push_back(name);
        }
        o.emphasis_name = "medoid";
    }
    o.title = args.get("title").value_or(title);
    return viz::chart(font, points, {}, o);
}

}  // namespace

int cmd_heads(const Args& args) {
    const HeadsRequest r = parse_request(args);
    if (!r.scatter) reject_draw_options(args, "--scatter FILE");
    const std::optional<viz::Font> font =
        r.scatter ? std::optional<viz::Font>(load_font(args)) : std::nullopt;
    const HeadTable table = head_table(args);
    const int rows = int(table.rows());
    if (r.clusters > rows)
        throw Error("--clusters " + std::to_string(r.clusters) + ": only " + std::to_string(rows) +
                    " heads to cluster (expected 1.." + std::to_string(rows) + ")");
    const std::vector<std::string> features = r.features.empty() ? table.metrics : r.features;

    nlohmann::json json = {{"model", table.model}, {"texts", table.texts}};
    std::string text;
    if (r.rank_metric) print_ranking(table, r, json, text);

    std::vector<double> x;
    std::optional<Clustering> clustering;
    if (r.clusters > 0 || r.scatter) x = scaled_features(table, features);
    if (r.clusters > 0) {
        clustering = cluster_heads(x, rows, int(features.size()), r.clusters);
        print_clusters(table, r, *clustering, features, json, text);
    }
    if (r.scatter) {
        const analysis::Pca2 pca = analysis::pca2(x, rows, int(features.size()));
        if (r.format == "json") {
            nlohmann::json scores = nlohmann::json::array();
            for (int row = 0; row < rows; ++row)
                scores.push_back({{"layer", layer_of(table, size_t(row))},
                                  {"head", head_of(table, size_t(row))},
                                  {"pc1", pca.scores[size_t(row) * 2]},
                                  {"pc2", pca.scores[size_t(row) * 2 + 1]}});
            json["pca"] = {{"features", features},
                           {"explained", {pca.explained[0], pca.explained[1]}},
                           {"heads", scores}};
        }
        const viz::Scene scene = scatter_scene(*font, table, args, int(features.size()), pca,
                                               clustering ? &*clustering : nullptr);
        write_view(args, scene, *font, *r.scatter);
    }
    if (r.format == "json") text = json.dump() + "\n";
    std::fputs(text.c_str(), stdout);
    return 0;
}

}  // namespace headmap::cli
