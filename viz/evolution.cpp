// Evolution over T steps (IzzyViz's sparklines): the background is the mean over the steps; in
// each cell a line with one point per step, 80% of the cell wide and 70% of it high.
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {
namespace {

constexpr Color kDarkLine{0, 0, 139, 204};  // IzzyViz's "darkblue" at alpha 0.8
constexpr Color kLightLine{255, 255, 255, 204};

}  // namespace

Scene evolution(const Font& font, std::span<const MapView> steps,
                std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                const EvolutionOptions& options) {
    using namespace detail;
    check_series(steps, "evolution", "step");
    const int rows = steps[0].rows, cols = steps[0].cols;
    check_labels(row_tokens, rows, "evolution", "row");
    check_labels(col_tokens, cols, "evolution", "column");

    const size_t cells = size_t(rows) * size_t(cols), T = steps.size();
    std::vector<float> mean(cells);
    const bool causal = options.causal_mask;
    float lo = INFINITY, hi = -INFINITY;  // over all allowed cells and steps
    for (size_t i = 0; i < cells; ++i) {
        double sum = 0;
        const bool masked = is_masked(causal, int(i / size_t(cols)), int(i % size_t(cols)));
        for (const MapView& s : steps) {
            const float v = s.values[i];
            sum += v;
            if (std::isfinite(v) && !masked) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        }
        mean[i] = float(sum / double(T));
    }

    Lens lens;
    lens.map = MapView{mean, rows, cols};
    lens.row_tokens = row_tokens;
    lens.col_tokens = col_tokens;
    lens.title =
        options.title.empty() ? "Attention over " + std::to_string(T) + " steps" : options.title;
    lens.x_label = options.x_label;
    lens.y_label = options.y_label;
    const auto [mlo, mhi] = value_range(lens.map, causal);
    lens.scale = make_scale(options.colormap, mlo, mhi, options.gamma);
    lens.causal = causal;

    auto overlay = [&](Scene& scene, const LensLayout& L) {
        const float width = std::clamp(L.cell / 24, 0.5f, 1.5f);
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                if (is_masked(causal, r, c)) continue;
                const size_t i = size_t(r) * size_t(cols) + size_t(c);
                float a = lo, b = hi;
                if (options.per_cell) {
                    a = INFINITY;
                    b = -INFINITY;
                    for (const MapView& s : steps) {
                        if (!std::isfinite(s.values[i])) continue;
                        a = std::min(a, s.values[i]);
                        b = std::max(b, s.values[i]);
                    }
                }
                const float x0 = L.col_edges[size_t(c)], x1 = L.col_edges[size_t(c) + 1];
                const float y0 = L.row_edges[size_t(r)], y1 = L.row_edges[size_t(r) + 1];
                const float cw = x1 - x0, ch = y1 - y0;
                const float cx = 0.5f * (x0 + x1), cy = 0.5f * (y0 + y1);
                PolylineItem line;
                line.points.reserve(T);
                for (size_t t = 0; t < T; ++t) {
                    float v = steps[t].values[i];
                    // A flat series (or a missing value) sits on the cell's middle line.
                    float f = (b > a && std::isfinite(v)) ? (v - a) / (b - a) : 0.5f;
                    const float x =
                        T == 1 ? cx : x0 + 0.1f * cw + 0.8f * cw * float(t) / float(T - 1);
                    line.points.push_back({x, cy + 0.35f * ch - 0.7f * ch * f});
                }
                // Dark on light cells, light on dark ones, as IzzyViz switches its two colours.
                line.stroke = is_light(lens.scale(mean[i])) ? kDarkLine : kLightLine;
                line.width = width;
                scene.items.emplace_back(std::move(line));
            }
        }
    };
    Scene scene = single_panel(font, lens, true, overlay);
    add_legend(scene, font,
               "Background: mean over " + std::to_string(T) +
                   " steps. Lines: one point per step, " +
                   (options.per_cell ? "scaled per cell" : "on one scale for all cells"));
    return scene;
}

}  // namespace headmap::viz
