// Two maps of one shape: IzzyViz's comparison (background = first map, a circle per cell coloured
// by the second, sized by the difference) and the plain signed difference.
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {
namespace {

constexpr Color kIncrease{214, 39, 40, 255};  // second > first
constexpr Color kDecrease{31, 119, 180, 255};

void check_pair(const MapView& first, const MapView& second,
                std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                std::string_view view) {
    detail::check_map(first, view);
    detail::check_map(second, view);
    detail::check_same_shape(first, second, view);
    detail::check_labels(row_tokens, first.rows, view, "row");
    detail::check_labels(col_tokens, first.cols, view, "column");
}

// Radius of a comparison circle in cell units; none where the maps agree.
float compare_radius(float diff, float max_diff, float scale) {
    if (diff == 0 || !(max_diff > 0)) return 0;
    return std::min(scale * 0.45f * diff / max_diff, 0.5f);
}

}  // namespace

Scene compare(const Font& font, const MapView& first, const MapView& second,
              std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
              const CompareOptions& options) {
    using namespace detail;
    check_pair(first, second, row_tokens, col_tokens, "compare");
    if (!(options.scale > 0) || !std::isfinite(options.scale)) {
        throw Error("compare: circle scale must be > 0");
    }
    const bool causal = options.causal_mask;
    const auto [lo1, hi1] = value_range(first, causal);
    const auto [lo2, hi2] = value_range(second, causal);
    Lens lens;
    lens.map = first;
    lens.row_tokens = row_tokens;
    lens.col_tokens = col_tokens;
    lens.title = options.title.empty()
                     ? "Comparison: " + options.first_name + " vs " + options.second_name
                     : options.title;
    lens.x_label = options.x_label;
    lens.y_label = options.y_label;
    // One norm over both maps, so a circle and its background are directly comparable.
    lens.scale =
        make_scale(options.colormap, std::min(lo1, lo2), std::max(hi1, hi2), options.gamma);
    lens.causal = causal;

    float max_diff = 0;
    for (int r = 0; r < first.rows; ++r) {
        for (int c = 0; c < first.cols; ++c) {
            const float d = std::fabs(second.at(r, c) - first.at(r, c));
            if (std::isfinite(d) && !is_masked(causal, r, c)) max_diff = std::max(max_diff, d);
        }
    }
    auto overlay = [&](Scene& scene, const LensLayout& L) {
        for (int r = 0; r < first.rows; ++r) {
            for (int c = 0; c < first.cols; ++c) {
                const float a = first.at(r, c), b = second.at(r, c);
                const float d = std::fabs(b - a);
                if (!std::isfinite(d) || is_masked(causal, r, c)) continue;
                const float x0 = L.col_edges[size_t(c)], x1 = L.col_edges[size_t(c) + 1];
                const float y0 = L.row_edges[size_t(r)], y1 = L.row_edges[size_t(r) + 1];
                const float radius =
                    compare_radius(d, max_diff, options.scale) * std::min(x1 - x0, y1 - y0);
                if (!(radius > 0)) continue;
                CircleItem circle{0.5f * (x0 + x1), 0.5f * (y0 + y1), radius};
                circle.fill =
                    options.signed_colors ? (b > a ? kIncrease : kDecrease) : lens.scale(b);
                if (radius >= 2) {  // a thin rim keeps a circle visible on a like-coloured cell
                    circle.stroke = Color{255, 255, 255, 200};
                    circle.stroke_width = std::clamp(0.04f * L.cell, 0.4f, 1.0f);
                }
                scene.items.emplace_back(circle);
            }
        }
    };
    Scene scene = single_panel(font, lens, true, overlay);
    add_legend(scene, font,
               options.signed_colors
                   ? "Background: " + options.first_name + ". Circles: red where " +
                         options.second_name + " > " + options.first_name +
                         ", blue where lower; radius ~ |" + options.second_name + " - " +
                         options.first_name + "|"
                   : "Background: " + options.first_name + ". Circles: " + options.second_name +
                         " (same colour scale); radius ~ |" + options.second_name + " - " +
                         options.first_name + "|");
    return scene;
}

Scene difference(const Font& font, const MapView& first, const MapView& second,
                 std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                 const CompareOptions& options) {
    using namespace detail;
    check_pair(first, second, row_tokens, col_tokens, "difference");
    std::vector<float> diff(first.values.size());
    float m = 0;
    for (size_t i = 0; i < diff.size(); ++i) {
        diff[i] = second.values[i] - first.values[i];
        const int r = int(i / size_t(first.cols)), c = int(i % size_t(first.cols));
        if (std::isfinite(diff[i]) && !is_masked(options.causal_mask, r, c)) {
            m = std::max(m, std::fabs(diff[i]));
        }
    }
    if (!(m > 0)) m = 1;  // all equal: everything sits at the neutral centre
    Lens lens;
    lens.map = MapView{diff, first.rows, first.cols};
    lens.row_tokens = row_tokens;
    lens.col_tokens = col_tokens;
    lens.title =
        options.title.empty() ? options.second_name + " - " + options.first_name : options.title;
    lens.x_label = options.x_label;
    lens.y_label = options.y_label;
    // A diverging map centred on 0 with a linear, symmetric norm: a power norm would move the
    // zero off the neutral colour. RdBu_r puts increases in red unless RdBu itself was asked for.
    const bool diverging = options.colormap == "RdBu" || options.colormap == "RdBu_r";
    lens.scale = make_scale(diverging ? options.colormap : "RdBu_r", -m, m, 1.0f);
    lens.causal = options.causal_mask;
    Scene scene = single_panel(font, lens, true, {});
    add_legend(scene, font,
               "Colour: " + options.second_name + " - " + options.first_name + " (0 = neutral)");
    return scene;
}

}  // namespace headmap::viz
