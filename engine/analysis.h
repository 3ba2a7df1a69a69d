// Attention statistics and rollout over finished maps (plain functions over raw buffers).
// Every statistic counts allowed entries only: with `causal`, key j > query i never counts.
// ../shared/notes/views-and-metrics.md says what the seed tools compute and where they go wrong.
#pragma once

#include <span>
#include <string>
#include <vector>

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

// One head's map (S, S), rows attending.
HeadStats head_stats(std::span<const float> map, int seq, bool causal, double threshold = 0.01);

// The metric names in table/CSV column order, and a metric's value by name (for ranking).
const std::vector<std::string>& metric_names();
double metric(const HeadStats& stats, const std::string& name);

enum class HeadFusion { Mean, Max, Min };

// Attention rollout (Abnar & Zuidema, 2020). maps: (L, H, S, S) of consecutive layers from the
// first. Per layer: fuse heads; zero the lowest `discard_ratio` share of the fused entries (ties
// broken by position; entry (0, 0), the first token on itself, is never zeroed, as in the widely
// used reference implementation); A' = rownorm(0.5 A + 0.5 I);
// R_1 = A'_1, R_l = A'_l R_(l-1). Returns R_L (S, S); rows sum to 1.
std::vector<float> rollout(std::span<const float> maps, int layers, int heads, int seq,
                           HeadFusion fusion, double discard_ratio);

}  // namespace headmap::analysis
