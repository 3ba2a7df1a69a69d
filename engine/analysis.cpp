#include "engine/analysis.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/error.h"

namespace headmap::analysis {

HeadStats head_stats(std::span<const float> map, int seq, bool causal, double threshold) {
    const size_t S = size_t(seq);
    if (seq <= 0 || map.size() != S * S)
        throw Error("head_stats: a map of " + std::to_string(map.size()) + " values is not " +
                    std::to_string(seq) + " x " + std::to_string(seq));
    HeadStats out;
    out.column_sums.assign(S, 0.0);
    std::vector<float> allowed_values;
    allowed_values.reserve(causal ? S * (S + 1) / 2 : S * S);
    int normalized_rows = 0;
    size_t below = 0, previous_rows = 0;
    double total = 0;
    for (size_t i = 0; i < S; ++i) {
        const float* row = &map[i * S];
        const size_t keys = causal ? i + 1 : S;
        double entropy = 0, distance = 0, local = 0, medium = 0, global = 0;
        for (size_t j = 0; j < keys; ++j) {
            const double a = row[j];
            allowed_values.push_back(row[j]);
            total += a;
            if (a > 0) entropy -= a * std::log(a);
            if (a < threshold) ++below;
            out.max = std::max(out.max, a);
            out.column_sums[j] += a;
            const size_t d = i > j ? i - j : j - i;
            distance += a * double(d);
            (d <= 1 ? local : d <= 3 ? medium : global) += a;
        }
        out.entropy += entropy;
        if (keys >= 2) {
            out.normalized_entropy += entropy / std::log(double(keys));
            ++normalized_rows;
        }
        out.first += row[0];
        out.self += row[i];
        if (i >= 1) out.previous += row[i - 1], ++previous_rows;
        out.distance += distance;
        out.local += local, out.medium += medium, out.global += global;
    }
    const double rows = double(S);
    out.entropy /= rows;
    out.normalized_entropy = normalized_rows ? out.normalized_entropy / normalized_rows : 0.0;
    out.sparsity = double(below) / double(allowed_values.size());
    out.first /= rows, out.self /= rows, out.distance /= rows;
    out.previous = previous_rows ? out.previous / double(previous_rows) : 0.0;
    out.local /= rows, out.medium /= rows, out.global /= rows;
    const size_t top = std::max<size_t>(1, size_t(std::ceil(0.05 * double(allowed_values.size()))));
    std::nth_element(allowed_values.begin(), allowed_values.begin() + std::ptrdiff_t(top - 1),
                     allowed_values.end(), std::greater<float>());
    double top_mass = 0;
    for (size_t k = 0; k < top; ++k) top_mass += allowed_values[k];
    out.top5_mass = total > 0 ? top_mass / total : 0.0;
    return out;
}

const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = {
        "entropy", "normalized_entropy", "sparsity", "max",    "first",  "previous",
        "self",    "distance",           "local",    "medium", "global", "top5_mass"};
    return names;
}

double metric(const HeadStats& s, const std::string& name) {
    const double values[] = {
        s.entropy, s.normalized_entropy, s.sparsity, s.max,    s.first,  s.previous,
        s.self,    s.distance,           s.local,    s.medium, s.global, s.top5_mass};
    const auto& names = metric_names();
    for (size_t k = 0; k < names.size(); ++k)
        if (names[k] == name) return values[k];
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown metric '" + name + "' (expected one of: " + known + ")");
}

std::vector<float> rollout(std::span<const float> maps, int layers, int heads, int seq,
                           HeadFusion fusion, double discard_ratio) {
    const size_t S = size_t(seq), per_map = S * S;
    if (layers <= 0 || heads <= 0 || seq <= 0 || maps.size() != size_t(layers) * heads * per_map)
        throw Error("rollout: maps do not hold " + std::to_string(layers) + " layers x " +
                    std::to_string(heads) + " heads of " + std::to_string(seq) + " x " +
                    std::to_string(seq));
    if (!(discard_ratio >= 0 && discard_ratio < 1))
        throw Error("rollout: discard ratio must be in [0, 1)");
    std::vector<double> result(per_map, 0.0), fused(per_map), next(per_map);
    for (size_t i = 0; i < S; ++i) result[i * S + i] = 1.0;  // R_0 = I
    std::vector<size_t> order(per_map);
    for (int l = 0; l < layers; ++l) {
        const float* layer = &maps[size_t(l) * heads * per_map];
        for (size_t k = 0; k < per_map; ++k) {
            double v = layer[k];
            for (int h = 1; h < heads; ++h) {
                const double w = layer[size_t(h) * per_map + k];
                v = fusion == HeadFusion::Mean  ? v + w
                    : fusion == HeadFusion::Max ? std::max(v, w)
                                                : std::min(v, w);
            }
            fused[k] = fusion == HeadFusion::Mean ? v / heads : v;
        }
        if (discard_ratio > 0) {  // the lowest share of entries; entry (0, 0) is always kept
            const size_t drop = size_t(double(per_map) * discard_ratio);
            for (size_t k = 0; k < per_map; ++k) order[k] = k;
            std::stable_sort(order.begin(), order.end(),
                             [&](size_t a, size_t b) { return fused[a] < fused[b]; });
            for (size_t n = 0; n < drop; ++n)
                if (order[n] != 0) fused[order[n]] = 0.0;
        }
        for (size_t i = 0; i < S; ++i) {  // A' = rownorm(0.5 A + 0.5 I)
            double sum = 0;
            for (size_t j = 0; j < S; ++j) {
                fused[i * S + j] = 0.5 * fused[i * S + j] + (i == j ? 0.5 : 0.0);
                sum += fused[i * S + j];
            }
            for (size_t j = 0; j < S; ++j) fused[i * S + j] /= sum;
        }
        // R_l = A'_l R_(l-1), in double: rollout multiplies many near-identity matrices.
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, seq, seq, seq, 1.0, fused.data(),
                    seq, result.data(), seq, 0.0, next.data(), seq);
        result.swap(next);
    }
    return {result.begin(), result.end()};
}

}  // namespace headmap::analysis
