// Per-head statistics as one table, for stats, ranking, clustering and reports: from one text or
// saved maps (the map-source options), or mean and std over a corpus (--texts FILE, one text per
// line; a tab makes a sentence pair).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/cli/args.h"
#include "tools/cli/map_source.h"

namespace headmap::cli {

struct HeadTable {
    std::string model;                 // for titles
    int n_layer = 0, n_head = 0;       // the model's
    std::vector<int> layers;           // the model layers held, ascending
    std::vector<int> heads;            // the heads held, ascending
    std::vector<std::string> metrics;  // analysis::metric_names(), in that order
    int texts = 0;                     // texts aggregated (1 for one text or saved maps)
    // (layers.size() * heads.size(), metrics.size()) row-major, rows ordered layer-major:
    // row = layer_index * heads.size() + head_index. std is 0 for a single text.
    std::vector<double> mean, std;

    bool causal = false;  // decoder maps (the upper triangle never counts)

    // One text or saved maps only (empty over a corpus, where texts differ in length): the token
    // labels and each row's column sums, the attention each token receives (hubs).
    std::vector<std::string> tokens;               // (S)
    std::vector<std::vector<double>> column_sums;  // (rows(), S)

    // Over a corpus (--texts): where the time went, for --bench. Model loading is not counted in
    // seconds; tokenizing (tokenizer files included), forwards and statistics are.
    struct CorpusRun {
        int threads = 1;       // engines, one per thread
        long long tokens = 0;  // over all texts, special tokens included
        double seconds = 0;    // tokenize_seconds + the forwards and statistics
        double tokenize_seconds = 0;
        double load_seconds = 0;  // the engines
    };
    std::optional<CorpusRun> corpus;  // set in corpus mode (even for a file of one text)

    size_t rows() const { return layers.size() * heads.size(); }
    double mean_at(size_t row, size_t metric) const { return mean[row * metrics.size() + metric]; }
    double std_at(size_t row, size_t metric) const { return std[row * metrics.size() + metric]; }
    // The metric's column index; headmap::Error naming the known metrics for an unknown name.
    size_t metric_index(const std::string& name) const;
};

// With --texts: every line through the model (--model, default the embedded model), the metrics
// of each head averaged over texts (mean and population std), a progress bar on stderr when it is
// a terminal. --threads N engines, each single-threaded, take texts from a shared counter; the
// results are merged in text order, so they do not depend on N. Otherwise the maps load_maps()
// gives (one text, or --from), std 0, statistics on --threads threads.
HeadTable head_table(const Args& args);

}  // namespace headmap::cli
