// headmap stats: per-head statistics of every layer's maps (table, JSON or CSV), from one text or
// saved maps (with each head's hub, the token receiving the most attention), or mean and std over
// a corpus (--texts FILE; no hubs there: texts differ in length, so column sums do not line up).
// --bench (with --texts) prints one JSON line of throughput instead of the table, comparable with
// tools/reference/bench_corpus_stats.py.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/head_table.h"
#include "tools/cli/view_common.h"

namespace headmap::cli {
namespace {

constexpr const char* kCorpusNote =
    "mean and population std over texts; hubs (column sums) are left out: texts differ in length";

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string format_number(const char* format, double value) {
    char cell[64];
    std::snprintf(cell, sizeof cell, format, value);
    return cell;
}

// One text or saved maps: the metrics, then the hub token and what it receives.
std::string single_output(const HeadTable& t, const std::string& format) {
    const size_t M = t.metrics.size();
    if (format == "json") {
        nlohmann::json json = {{"model", t.model},
                               {"seq", t.tokens.size()},
                               {"causal", t.causal},
                               {"tokens", t.tokens},
                               {"heads", nlohmann::json::array()}};
        for (size_t row = 0; row < t.rows(); ++row) {
            nlohmann::json head = {{"layer", t.layers[row / t.heads.size()]},
                                   {"head", t.heads[row % t.heads.size()]},
                                   {"column_sums", t.column_sums[row]}};
            for (size_t m = 0; m < M; ++m) head[t.metrics[m]] = t.mean_at(row, m);
            json["heads"].push_back(head);
        }
        return json.dump() + "\n";
    }
    const bool csv = format == "csv";
    const std::string sep = csv ? "," : " ";
    std::string text = csv ? "layer,head" : "layer head";
    for (const std::string& name : t.metrics) text += sep + name;
    text += sep + "hub_token" + sep + "hub_sum\n";
    for (size_t row = 0; row < t.rows(); ++row) {
        const std::vector<double>& sums = t.column_sums[row];
        const size_t hub = size_t(std::max_element(sums.begin(), sums.end()) - sums.begin());
        char cell[64];
        std::snprintf(cell, sizeof cell, csv ? "%d,%d" : "%5d %4d", t.layers[row / t.heads.size()],
                      t.heads[row % t.heads.size()]);
        text += cell;
        for (size_t m = 0; m < M; ++m)
            text += format_number(csv ? ",%.6g" : " %.4f", t.mean_at(row, m));
        text += sep + (csv ? csv_field(t.tokens[hub]) : t.tokens[hub]);
        text += format_number(csv ? ",%.6g\n" : " %.4f\n", sums[hub]);
    }
    return text;
}

// A corpus: mean and std per head and metric.
std::string corpus_output(const HeadTable& t, const std::string& format) {
    const size_t M = t.metrics.size();
    if (format == "json") {
        nlohmann::json json = {{"model", t.model},    {"causal", t.causal},
                               {"texts", t.texts},    {"metrics", t.metrics},
                               {"note", kCorpusNote}, {"heads", nlohmann::json::array()}};
        for (size_t row = 0; row < t.rows(); ++row) {
            nlohmann::json mean = nlohmann::json::object(), std = nlohmann::json::object();
            for (size_t m = 0; m < M; ++m) {
                mean[t.metrics[m]] = t.mean_at(row, m);
                std[t.metrics[m]] = t.std_at(row, m);
            }
            json["heads"].push_back({{"layer", t.layers[row / t.heads.size()]},
                                     {"head", t.heads[row % t.heads.size()]},
                                     {"mean", mean},
                                     {"std", std}});
        }
        return json.dump() + "\n";
    }
    if (format == "csv") {
        std::string text = "layer,head";
        for (const std::string& name : t.metrics) {
            text += ',';
            text += name;
            text += "_mean,";
            text += name;
            text += "_std";
        }
        text += "\n";
        for (size_t row = 0; row < t.rows(); ++row) {
            text += std::to_string(t.layers[row / t.heads.size()]);
            text += ',';
            text += std::to_string(t.heads[row % t.heads.size()]);
            for (size_t m = 0; m < M; ++m)
                text += format_number(",%.6g", t.mean_at(row, m)) +
                        format_number(",%.6g", t.std_at(row, m));
            text += "\n";
        }
        return text;
    }
    // The table: "mean±std" cells under right-aligned names ('±' is two bytes, one column), one
    // space between columns.
    std::vector<std::vector<std::string>> cells(t.rows());
    std::vector<size_t> width(M);
    for (size_t m = 0; m < M; ++m) width[m] = t.metrics[m].size();
    for (size_t row = 0; row < t.rows(); ++row)
        for (size_t m = 0; m < M; ++m) {
            std::string cell = format_number("%.4f", t.mean_at(row, m));
            cell += "\u00b1";
            cell += format_number("%.4f", t.std_at(row, m));
            width[m] = std::max(width[m], cell.size() - 1);
            cells[row].push_back(std::move(cell));
        }
    const auto pad = [](size_t columns, size_t used) { return std::string(columns - used, ' '); };
    std::string text = "# ";  // piecewise: GCC 12's false -Wrestrict on "literal" + string
    text += t.model;
    text += ": ";
    text += std::to_string(t.texts);
    text += " texts; ";
    text += kCorpusNote;
    text += "\nlayer head";
    for (size_t m = 0; m < M; ++m) text += pad(width[m] + 1, t.metrics[m].size()) + t.metrics[m];
    text += "\n";
    for (size_t row = 0; row < t.rows(); ++row) {
        char head[32];
        std::snprintf(head, sizeof head, "%5d %4d", t.layers[row / t.heads.size()],
                      t.heads[row % t.heads.size()]);
        text += head;
        for (size_t m = 0; m < M; ++m)
            text += pad(width[m] + 1, cells[row][m].size() - 1) + cells[row][m];
        text += "\n";
    }
    return text;
}

}  // namespace

int cmd_stats(const Args& args) {
    const std::string format = args.get("format").value_or("table");
    if (format != "table" && format != "json" && format != "csv")
        throw Error("--format '" + format + "' (expected table, json or csv)");
    if (args.flag("bench") && !args.get("texts"))
        throw Error("--bench times a corpus; it needs --texts FILE");
    const HeadTable table = head_table(args);
    std::string text;
    if (args.flag("bench")) {
        const HeadTable::CorpusRun& run = *table.corpus;
        char line[512];
        std::snprintf(line, sizeof line,
                      "{\"impl\": \"headmap\", \"model\": %s, \"texts\": %d, \"tokens\": %lld, "
                      "\"threads\": %d, \"seconds\": %.3f, \"sentences_per_s\": %.2f, "
                      "\"tokenize_s\": %.3f, \"load_s\": %.3f, \"heads\": %zu}\n",
                      nlohmann::json(table.model).dump().c_str(), table.texts, run.tokens,
                      run.threads, run.seconds, table.texts / run.seconds, run.tokenize_seconds,
                      run.load_seconds, table.rows());
        text = line;
    } else {
        text = table.corpus ? corpus_output(table, format) : single_output(table, format);
    }
    std::fputs(text.c_str(), stdout);
    return 0;
}

}  // namespace headmap::cli
