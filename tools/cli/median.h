// The median of benchmark timings, shared by the bench commands so that every JSON line they
// print uses one definition: the middle value, or the mean of the two middle ones.
#pragma once

#include <algorithm>
#include <vector>

namespace headmap::cli {

inline double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace headmap::cli
