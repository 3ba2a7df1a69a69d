// Stability over n runs (IzzyViz's gradient circles): the background is the mean map; in each
// cell a disc sized by the run-to-run error, shading from colour(mean - contrast*err) at the
// centre to colour(mean + contrast*err) at the rim, so a wide colour sweep means an unstable cell.
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {

Scene stability(const Font& font, std::span<const MapView> runs,
                std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                const StabilityOptions& options) {
    using namespace detail;
    check_series(runs, "stability", "run");
    const int rows = runs[0].rows, cols = runs[0].cols;
    check_labels(row_tokens, rows, "stability", "row");
    check_labels(col_tokens, cols, "stability", "column");
    if (!(options.contrast >= 0) || !std::isfinite(options.contrast)) {
        throw Error("stability: contrast must be >= 0");
    }

    // Mean and population std (numpy's default ddof = 0, as IzzyViz uses), in double.
    const size_t cells = size_t(rows) * size_t(cols);
    const double n = double(runs.size());
    std::vector<float> mean(cells), err(cells);
    float lo = INFINITY, hi = -INFINITY, max_err = 0;
    const bool causal = options.causal_mask;
    for (size_t i = 0; i < cells; ++i) {
        double sum = 0, sum_sq = 0;
        for (const MapView& run : runs) sum += run.values[i];
        const double m = sum / n;
        for (const MapView& run : runs) sum_sq += (run.values[i] - m) * (run.values[i] - m);
        const double sd = std::sqrt(sum_sq / n);
        mean[i] = float(m);
        err[i] = float(options.use_std ? sd : sd / std::sqrt(n));
        if (!std::isfinite(mean[i]) || !std::isfinite(err[i])) continue;
        if (is_masked(causal, int(i / size_t(cols)), int(i % size_t(cols)))) continue;
        lo = std::min(lo, mean[i] - err[i]);
        hi = std::max(hi, mean[i] + err[i]);
        max_err = std::max(max_err, err[i]);
    }
    if (!(lo <= hi)) lo = hi = 0;

    Lens lens;
    lens.map = MapView{mean, rows, cols};
    lens.row_tokens = row_tokens;
    lens.col_tokens = col_tokens;
    lens.title = options.title.empty() ? "Stability over " + std::to_string(runs.size()) + " runs"
                                       : options.title;
    lens.x_label = options.x_label;
    lens.y_label = options.y_label;
    // One norm over [min(mean - err), max(mean + err)], so the circles' colours stay on the bar.
    lens.scale = make_scale(options.colormap, lo, hi, options.gamma);
    lens.causal = causal;

    auto overlay = [&](Scene& scene, const LensLayout& L) {
        if (!(max_err > 0)) return;
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                const size_t i = size_t(r) * size_t(cols) + size_t(c);
                const float e = err[i];
                // err ~ 0: no circle (relative to the largest, so float noise does not draw dots).
                if (!std::isfinite(e) || !std::isfinite(mean[i]) || e <= max_err * 1e-6f ||
                    is_masked(causal, r, c))
                    continue;
                const float x0 = L.col_edges[size_t(c)], x1 = L.col_edges[size_t(c) + 1];
                const float y0 = L.row_edges[size_t(r)], y1 = L.row_edges[size_t(r) + 1];
                GradientCircleItem disc;
                disc.cx = 0.5f * (x0 + x1);
                disc.cy = 0.5f * (y0 + y1);
                disc.r = 0.45f * e / max_err * std::min(x1 - x0, y1 - y0);
                disc.inner =
                    options.from_white ? kWhite : lens.scale(mean[i] - options.contrast * e);
                disc.outer = lens.scale(mean[i] + options.contrast * e);
                scene.items.emplace_back(disc);
            }
        }
    };
    Scene scene = single_panel(font, lens, true, overlay);
    add_legend(scene, font,
               "Background: mean of " + std::to_string(runs.size()) + " runs. Circle radius ~ " +
                   (options.use_std ? "standard deviation" : "standard error") +
                   "; centre to rim: mean - " + format_fixed(options.contrast, 1) + " " +
                   (options.use_std ? "std" : "SE") + " to mean + " +
                   format_fixed(options.contrast, 1) + " " + (options.use_std ? "std" : "SE"));
    return scene;
}

}  // namespace headmap::viz
