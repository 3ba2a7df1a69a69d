// The pieces of the fast statistics path (engine/analysis/head_stats.cpp) that tests check on their own.
#pragma once

#include <cstddef>
#include <span>

#include "engine/analysis/analysis.h"

namespace headmap::analysis::detail {

// The sum of the k largest of values[0, n) (1 <= k <= n) with the exact k-th largest: ties at
// the k-th count as often as k needs them, as a sort would give. Reorders and overwrites
// `values`. headmap::Error for k outside [1, n].
double sum_of_largest(float* values, size_t n, size_t k);

// head_stats with the top-5% candidate floor forced to `floor` instead of sampled: -inf copies
// every entry; a floor above the k-th largest takes the fallback pass.
HeadStats head_stats_with_floor(std::span<const float> map, int seq, bool causal, double threshold,
                                float floor);

}  // namespace headmap::analysis::detail
