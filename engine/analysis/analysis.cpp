#include "engine/analysis/analysis.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "headmap/error.hpp"
#include "kernels/cpu/blas.h"

namespace headmap::analysis {

void check_attention_maps(std::span<const float> maps, int n_maps, int seq, bool causal,
                          const char* where) {
    if (seq <= 0 || n_maps < 0 || maps.size() != size_t(n_maps) * size_t(seq) * size_t(seq))
        throw Error(std::string(where) + ": " + std::to_string(maps.size()) + " values are not " +
                    std::to_string(n_maps) + " maps of " + std::to_string(seq) + " x " +
                    std::to_string(seq));
    const size_t S = size_t(seq);
    for (size_t m = 0; m < size_t(n_maps); ++m)
        for (size_t i = 0; i < S; ++i) {
            const float* row = maps.data() + (m * S + i) * S;
            const size_t keys = causal ? i + 1 : S;
            for (size_t j = 0; j < keys; ++j)
                if (!(row[j] >= 0.0f) || !std::isfinite(row[j]))
                    throw Error(std::string(where) + ": map " + std::to_string(m) + " entry (" +
                                std::to_string(i) + ", " + std::to_string(j) + ") is " +
                                std::to_string(row[j]) +
                                " (expected finite attention weights >= 0)");
        }
}

std::vector<double> residual_attention(std::span<const float> maps, int layers, int heads, int seq,
                                       HeadFusion fusion, double discard_ratio,
                                       const char* caller) {
    const size_t S = size_t(seq), per_map = S * S;
    if (layers <= 0 || heads <= 0 || seq <= 0 || maps.size() != size_t(layers) * heads * per_map)
        throw Error(std::string(caller) + ": maps do not hold " + std::to_string(layers) +
                    " layers x " + std::to_string(heads) + " heads of " + std::to_string(seq) +
                    " x " + std::to_string(seq) + " (" + std::to_string(maps.size()) + " values)");
    if (!(discard_ratio >= 0 && discard_ratio < 1))
        throw Error(std::string(caller) + ": discard ratio must be in [0, 1)");
    std::vector<double> residual(size_t(layers) * per_map);  // (L, S, S)
    std::vector<size_t> order(discard_ratio > 0 ? per_map : 0);
    for (int l = 0; l < layers; ++l) {
        const float* layer = &maps[size_t(l) * heads * per_map];
        const std::span<double> fused(&residual[size_t(l) * per_map], per_map);  // (S, S)
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
    }
    return residual;
}

std::vector<float> rollout(std::span<const float> maps, int layers, int heads, int seq,
                           HeadFusion fusion, double discard_ratio) {
    const std::vector<double> residual =
        residual_attention(maps, layers, heads, seq, fusion, discard_ratio, "rollout");
    const size_t S = size_t(seq), per_map = S * S;
    std::vector<double> result(per_map, 0.0), next(per_map);
    for (size_t i = 0; i < S; ++i) result[i * S + i] = 1.0;  // R_0 = I
    for (int l = 0; l < layers; ++l) {
        // R_l = A'_l R_(l-1), in double: rollout multiplies many near-identity matrices.
        blas::dgemm(blas::Transpose::No, blas::Transpose::No, seq, seq, seq, 1.0,
                    &residual[size_t(l) * per_map], seq, result.data(), seq, 0.0, next.data(), seq);
        result.swap(next);
    }
    return {result.begin(), result.end()};
}

}  // namespace headmap::analysis
