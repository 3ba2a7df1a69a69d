#include "engine/capture/attention_maps.h"

#include <algorithm>

#include "engine/capture/selection.h"
#include "headmap/error.hpp"

namespace headmap {

std::span<const float> AttentionMaps::map(int layer, int head) const {
    const auto at = std::find(layers.begin(), layers.end(), layer);
    if (at == layers.end() || head < 0 || head >= n_head)
        throw Error(
            "layer " + std::to_string(layer) + " head " + std::to_string(head) + " was not loaded",
            Status::OutOfRange);
    const size_t per_map = size_t(seq) * size_t(seq);
    const size_t index = size_t(at - layers.begin()) * size_t(n_head) + size_t(head);
    return std::span<const float>(values).subspan(index * per_map, per_map);
}

std::string resolve_head(const AttentionMaps& maps, const std::string& head_spec) {
    if (head_spec == "mean" || head_spec == "max") return head_spec;
    const std::vector<int> heads = parse_selection("head", head_spec, maps.n_head);
    if (heads.size() != 1 || head_spec == "all")
        throw Error("a head selection here is one head, mean or max (got '" + head_spec + "')",
                    Status::BadArgument);
    return std::to_string(heads.front());
}

std::vector<float> select_map(const AttentionMaps& maps, int layer, const std::string& head_spec) {
    const size_t n = size_t(maps.seq) * size_t(maps.seq);
    if (head_spec == "mean" || head_spec == "max") {
        std::vector<float> out(n, head_spec == "max" ? -1e30f : 0.0f);
        for (int h = 0; h < maps.n_head; ++h) {
            const auto m = maps.map(layer, h);
            for (size_t i = 0; i < n; ++i)
                out[i] = head_spec == "max" ? std::max(out[i], m[i]) : out[i] + m[i] / maps.n_head;
        }
        return out;
    }
    const auto m = maps.map(layer, std::stoi(resolve_head(maps, head_spec)));
    return {m.begin(), m.end()};
}

}  // namespace headmap
