// Attention statistics and rollout over finished maps (plain functions over raw buffers).
// Every statistic counts allowed entries only: with `causal`, key j > query i never counts.
// ../shared/notes/views-and-metrics.md says what the seed tools compute and where they go wrong.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace headmap {
struct DeviceHeadStats;  // engine/engine.h: what a CUDA engine's statistics come back as
}

namespace headmap::analysis {

struct HeadStats {
    double entropy = 0;             // mean over rows of -sum a ln a (nats)
    double normalized_entropy = 0;  // mean over rows with >= 2 allowed keys of entropy / ln(keys)
    double sparsity = 0;            // share of allowed entries below the threshold
    double max = 0;                 // largest allowed entry
    double first = 0;               // mean attention to token 0
    double previous = 0;            // mean attention to token i-1 (rows i >= 1)
    double self = 0;                // mean attention to token i
    double distance = 0;            // mean over rows of sum a_ij |i - j|
    double local = 0, medium = 0, global = 0;  // mean row mass at |i-j| <= 1, 2..3, >= 4
    double top5_mass = 0;  // share of all mass in the largest 5% of allowed entries (ceil)
    std::vector<double> column_sums;  // (S): attention each key receives (hubs)
};

// Statistics (engine/analysis/head_stats.cpp). Two paths give the same numbers: the fast one (head_stats,
// all_head_stats) is within 1e-6 absolute of the reference on every metric (tests check it on
// random maps, causal and not, with and without zeros); top5_mass's k-th largest entry is exact,
// ties included. Maps are expected to hold finite values (with NaN the two paths may differ).

// Throws headmap::Error, starting with `where`, unless `maps` is n_maps maps of S x S whose entries
// are all finite and >= 0 (with `causal`, entries above the diagonal are not looked at). Names the
// first bad entry as "map m entry (i, j)".
void check_attention_maps(std::span<const float> maps, int n_maps, int seq, bool causal,
                          const char* where);

// One head's map (S, S), rows attending; the fast path on this thread.
HeadStats head_stats(std::span<const float> map, int seq, bool causal, double threshold = 0.01);

// The plain definition the fast path is checked against: double sums in row order, std::log, and
// nth_element over a copy of the allowed entries (~8 ms per 1024 x 1024 causal map).
HeadStats head_stats_reference(std::span<const float> map, int seq, bool causal,
                               double threshold = 0.01);

// Every map of `maps` ((n_maps, S, S), or one (S, S) span each), one map per task on `threads`
// threads (0: all hardware threads). Results in map order, identical for every thread count.
// Without `column_sums`, HeadStats::column_sums stays empty (corpus mode has no use for them).
std::vector<HeadStats> all_head_stats(std::span<const float> maps, int n_maps, int seq, bool causal,
                                      double threshold, int threads, bool column_sums = true);
std::vector<HeadStats> all_head_stats(const std::vector<std::span<const float>>& maps, int seq,
                                      bool causal, double threshold, int threads,
                                      bool column_sums = true);

// A CUDA engine's statistics (same definitions) as this room's type.
HeadStats to_head_stats(const DeviceHeadStats& device);

// The metric names in table/CSV column order, and a metric's value by name (for ranking).
const std::vector<std::string>& metric_names();
double metric(const HeadStats& stats, const std::string& name);
// Every metric's value in metric_names() order (no name lookups: for tables over many texts).
std::vector<double> metric_values(const HeadStats& stats);

enum class HeadFusion { Mean, Max, Min };

// The per-layer step that rollout and flow (engine/analysis/flow.h) share (Abnar & Zuidema, 2020).
// maps: (L, H, S, S) of consecutive layers from the first. Per layer: fuse heads; zero the lowest
// `discard_ratio` share of the fused entries (ties broken by position; entry (0, 0), the first
// token on itself, is never zeroed, as in the widely used reference implementation);
// A' = rownorm(0.5 A + 0.5 I). Returns A'_1 .. A'_L as (L, S, S) doubles. Error messages start
// with `caller`.
std::vector<double> residual_attention(std::span<const float> maps, int layers, int heads, int seq,
                                       HeadFusion fusion, double discard_ratio,
                                       const char* caller = "rollout");

// Attention rollout: R_1 = A'_1, R_l = A'_l R_(l-1) over residual_attention's layers. Returns
// R_L (S, S); rows sum to 1.
std::vector<float> rollout(std::span<const float> maps, int layers, int heads, int seq,
                           HeadFusion fusion, double discard_ratio);

}  // namespace headmap::analysis
