// headmap report: one text's attention as a Markdown report in a directory: the model summary,
// the grid of every layer x head, the top heads (most focused, and the strongest head of each
// positional pattern), the attention rollout, modularity by layer and the statistics table, each
// image beside it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "engine/analysis/analysis.h"
#include "engine/analysis/heads.h"
#include "engine/output_file.h"
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/modularity_view.h"
#include "tools/cli/view_common.h"
#include "tools/viz_io.h"
#include "viz/render.h"

namespace headmap::cli {
namespace {
namespace fs = std::filesystem;

// One picked head and why it is in the report (the metric and its value).
struct TopHead {
    int layer = 0, head = 0;
    std::string why;
};

std::string fixed(double value, int decimals = 4) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// Markdown table cells: '|' would end the cell and a line break the row; backticks keep tokens
// like "Ġthe" readable, so a backtick inside one is replaced.
std::string md_token(const std::string& token) {
    std::string out = "`";
    for (char c : viz::display_token(token)) {
        if (c == '|')
            out += "\\|";
        else if (c == '`')
            out += '\'';
        else if (c == '\n' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out + "`";
}

std::string md_text(const std::string& text) {
    std::string out;
    for (char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

// The heads to draw: the `top` lowest normalised entropies (most focused), then the strongest
// first-token, previous-token and self head. A head picked twice is drawn once, with both reasons.
std::vector<TopHead> pick_heads(const Maps& maps, const std::vector<analysis::HeadStats>& stats,
                                int top) {
    // Heads ordered by one metric (ties by index), through the ranking `heads --rank` uses.
    const auto by = [&](const std::string& metric, bool ascending) {
        std::vector<double> values;
        for (const analysis::HeadStats& st : stats) values.push_back(analysis::metric(st, metric));
        return analysis::rank_by(values, ascending);
    };
    std::vector<TopHead> picked;
    const auto add = [&](int ranked, const std::string& why, const std::string& metric) {
        const size_t index = size_t(ranked);
        const int l = maps.layers[index / size_t(maps.n_head)];
        const int h = int(index % size_t(maps.n_head));
        const double value = analysis::metric(stats[index], metric);
        for (TopHead& t : picked)
            if (t.layer == l && t.head == h) {
                t.why += "; " + why + " (" + metric + " " + fixed(value) + ")";
                return;
            }
        picked.push_back({l, h, why + " (" + metric + " " + fixed(value) + ")"});
    };
    const std::vector<int> focused = by("normalized_entropy", true);
    for (size_t i = 0; i < focused.size() && int(i) < top; ++i)
        add(focused[i], "focused", "normalized_entropy");
    if (maps.seq >= 2 && !stats.empty())
        for (const char* metric : {"first", "previous", "self"}) {
            std::string why = "strongest ";
            why += metric;
            why += "-token head";
            add(by(metric, false).front(), why, metric);
        }
    return picked;
}

// The report is built in a sibling temporary directory and renamed into place at the end, so a
// failure leaves nothing half-written. An existing --out is replaced only when it is a previous
// report (it holds report.md); anything else is refused.
class ReportDirectory {
  public:
    explicit ReportDirectory(fs::path out) : out_(std::move(out)) {
        std::error_code ec;
        if (fs::exists(out_, ec) && !fs::exists(out_ / "report.md", ec)) {
            const bool empty_dir = fs::is_directory(out_, ec) && fs::is_empty(out_, ec);
            if (!empty_dir)
                throw Error("--out " + out_.string() +
                            " exists and is not a headmap report (expected a new or empty "
                            "directory, or a previous report)");
        }
        fs::path parent = out_.parent_path();
        if (parent.empty()) parent = ".";
        std::string temp_name = ".";  // built piecewise: GCC 12 warns falsely on "." + string
        temp_name += out_.filename().string();
        temp_name += ".tmp-";
        temp_name += std::to_string(getpid());
        temp_ = parent / temp_name;
        fs::remove_all(temp_, ec);
        if (!fs::is_directory(parent, ec))
            throw Error("--out " + out_.string() + ": the directory " + parent.string() +
                        " does not exist (expected the report's parent directory)");
        if (!fs::create_directory(temp_, ec) || ec)
            throw Error("--out " + out_.string() + ": cannot create a directory beside it (" +
                        ec.message() + ")");
    }
    ~ReportDirectory() {
        std::error_code ec;
        if (!committed_) fs::remove_all(temp_, ec);
    }
    ReportDirectory(const ReportDirectory&) = delete;
    ReportDirectory& operator=(const ReportDirectory&) = delete;

    fs::path file(const std::string& name) const { return temp_ / name; }

    void commit() {
        std::error_code ec;
        if (fs::exists(out_, ec)) {
            const fs::path old = temp_.string() + ".old";
            fs::rename(out_, old, ec);
            if (ec)
                throw Error("--out " + out_.string() + ": cannot replace (" + ec.message() + ")");
            fs::rename(temp_, out_, ec);
            if (ec) {
                std::error_code restore;
                fs::rename(old, out_, restore);
                throw Error("--out " + out_.string() + ": cannot replace (" + ec.message() + ")");
            }
            fs::remove_all(old, ec);
        } else {
            fs::rename(temp_, out_, ec);
            if (ec) throw Error("--out " + out_.string() + ": cannot write (" + ec.message() + ")");
        }
        committed_ = true;
    }

  private:
    fs::path out_, temp_;
    bool committed_ = false;
};

}  // namespace

int cmd_report(const Args& args) {
    const std::string image_format = args.get("image-format").value_or("png");
    if (image_format != "png" && image_format != "svg" && image_format != "pdf")
        throw Error("--image-format '" + image_format + "' (expected png, svg or pdf)");
    const int top = args.get_int("top", 4, 0, 64);
    const double threshold = args.get_float("threshold", 0.0f, 1.0f).value_or(0.01f);
    const float scale = args.get_float("scale", 0.1f, 16.0f).value_or(1.0f);
    const int threads = args.get_int("threads", 0, 0, 1024);
    ReportDirectory directory(args.required("out"));
    const viz::Font font = load_font(args);
    const Maps maps = load_maps(args, "all", args.flag("truncate"));
    const std::string colormap = colormap_option(args);
    const float gamma = gamma_option(args);

    const int n_maps = int(maps.layers.size()) * maps.n_head;
    const std::vector<analysis::HeadStats> stats =  // (layers * heads), layer-major
        analysis::all_head_stats(maps.values, n_maps, maps.seq, maps.causal, threshold, threads);
    const auto image = [&](const std::string& stem, const viz::Scene& scene) {
        const std::string name = stem + "." + image_format;
        viz_io::write_scene(scene, font, directory.file(name), scale);
        return name;
    };

    std::string md = "# headmap report: " + maps.name + "\n\n";
    if (auto text = args.get("text")) md += "Text: \"" + md_text(*text) + "\"\n\n";
    if (auto pair = args.get("pair")) md += "Pair: \"" + md_text(*pair) + "\"\n\n";
    md += "| model | layers | heads | tokens | attention |\n|---|---|---|---|---|\n";
    md += "| " + maps.name + " | " + std::to_string(maps.n_layer) + " | " +
          std::to_string(maps.n_head) + " | " + std::to_string(maps.seq) + " | " +
          (maps.causal ? "causal (decoder)" : "bidirectional (encoder)") + " |\n\n";
    md += "Tokens:";
    for (const std::string& token : maps.tokens) (md += ' ') += md_token(token);
    md += "\n\n";

    viz::GridOptions grid;
    grid.colormap = colormap;
    grid.gamma = gamma;
    grid.causal_mask = maps.causal;
    grid.title = maps.name + ": " + std::to_string(maps.layers.size()) + " layers x " +
                 std::to_string(maps.n_head) + " heads";
    std::vector<int> heads(size_t(maps.n_head));
    std::iota(heads.begin(), heads.end(), 0);
    md += "## Every layer and head\n\nOne colour scale for all thumbnails (power norm, gamma " +
          fixed(gamma, 2) + ").\n\n![grid](" +
          image("grid", viz::grid(font, maps.values, maps.layers, heads, maps.seq, grid)) + ")\n\n";

    viz::HeatmapOptions heat;
    heat.colormap = colormap;
    heat.gamma = gamma;
    heat.causal_mask = maps.causal;
    md += "## Top heads\n\n";
    const std::vector<TopHead> picked = pick_heads(maps, stats, top);
    md += "| head | why |\n|---|---|\n";
    for (const TopHead& t : picked)
        md += "| " + head_label(t.layer, t.head) + " | " + t.why + " |\n";
    md += "\n";
    for (const TopHead& t : picked) {
        const std::span<const float> map = maps.map(t.layer, t.head);
        heat.title = map_title(maps, t.layer, std::to_string(t.head));
        const std::string name = image("head_" + head_label(t.layer, t.head),
                                       viz::heatmap(font, viz::MapView{map, maps.seq, maps.seq},
                                                    maps.tokens, maps.tokens, heat));
        md += "![" + head_label(t.layer, t.head) + "](" + name + ")\n\n";
    }

    const std::vector<float> rolled =
        analysis::rollout(maps.values, int(maps.layers.size()), maps.n_head, maps.seq,
                          analysis::HeadFusion::Mean, 0.0);
    heat.title = maps.name + ": attention rollout (mean of heads, " +
                 std::to_string(maps.layers.size()) + " layers)";
    md +=
        "## Attention rollout\n\nAbnar & Zuidema (2020): heads averaged, A' = rownorm(0.5 A + "
        "0.5 I) per layer, multiplied from the first layer up.\n\n![rollout](" +
        image("rollout", viz::heatmap(font, viz::MapView{rolled, maps.seq, maps.seq}, maps.tokens,
                                      maps.tokens, heat)) +
        ")\n\n";

    std::vector<HeadResult> modularity;
    for (int l : maps.layers)
        for (int h = 0; h < maps.n_head; ++h) modularity.push_back({l, h, {}});
    std::vector<analysis::Communities> found =
        analysis::head_modularity(maps.values, n_maps, maps.seq, maps.causal, threads);
    for (size_t i = 0; i < modularity.size(); ++i) modularity[i].communities = std::move(found[i]);
    md +=
        "## Modularity by layer\n\nEach head's map as a weighted token graph (A + A^T) / 2; Q of "
        "its Louvain communities (the modularity score of the attention_viz notebooks; Louvain "
        "visits nodes in a fixed pseudo-random order, so a report is reproducible).\n\n"
        "![modularity](" +
        image("modularity", modularity_chart(font, modularity, maps.layers,
                                             maps.name + ": modularity by layer")) +
        ")\n\n";

    const std::vector<std::string>& names = analysis::metric_names();
    md +=
        "## Statistics\n\nPer head, over allowed entries only (a decoder's masked upper "
        "triangle never counts); entropy in nats; sparsity below " +
        fixed(threshold, 3) + "; hub = the token receiving the most attention.\n\n| head |";
    for (const std::string& n : names) md += " " + n + " |";
    md += " hub |\n|---|";
    for (size_t i = 0; i <= names.size(); ++i) md += "---|";
    md += "\n";
    for (size_t index = 0; index < stats.size(); ++index) {
        const analysis::HeadStats& s = stats[index];
        md +=
            "| " +
            head_label(maps.layers[index / size_t(maps.n_head)], int(index % size_t(maps.n_head))) +
            " |";
        for (const std::string& n : names) ((md += ' ') += fixed(analysis::metric(s, n))) += " |";
        const size_t hub = size_t(std::max_element(s.column_sums.begin(), s.column_sums.end()) -
                                  s.column_sums.begin());
        (((md += ' ') += md_token(maps.tokens[hub])) += ' ') +=
            fixed(s.column_sums[hub], 2) + " |\n";
    }

    AtomicOutputFile report(directory.file("report.md"));
    report.write(std::as_bytes(std::span<const char>(md.data(), md.size())));
    report.commit();
    directory.commit();
    return 0;
}

}  // namespace headmap::cli
