// The heatmap view (IzzyViz's table lens) and its question-context mode: five panels of a
// sentence pair sharing one colour scale.
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {

std::vector<int> top_cells(const MapView& map, int n, bool causal_mask) {
    detail::check_map(map, "top cells");
    return detail::top_cells_at(map, n, causal_mask, 0, 0);
}

std::vector<QuestionContextPanel> question_context_panels(int seq, int split) {
    if (split < 1 || split >= seq) {
        throw Error("question-context mode needs a split between 1 and " + std::to_string(seq - 1) +
                    " for " + std::to_string(seq) + " tokens (got " + std::to_string(split) + ")");
    }
    const int a = split, b = seq - split;
    // Rows attend, columns are attended to: "A -> B" is A's rows over B's columns. (IzzyViz's
    // code draws these two blocks under each other's titles.)
    return {
        {"A -> A (Question attending to Question)", 0, a, 0, a},
        {"B -> B (Context attending to Context)", a, b, a, b},
        {"A -> B (Question attending to Context)", 0, a, a, b},
        {"B -> A (Context attending to Question)", a, b, 0, a},
        {"All -> All (All tokens attending to all tokens)", 0, seq, 0, seq},
    };
}

namespace detail {

Lens lens_from_options(const MapView& map, std::span<const std::string> row_tokens,
                       std::span<const std::string> col_tokens, const HeatmapOptions& o,
                       std::string_view view) {
    check_map(map, view);
    check_labels(row_tokens, map.rows, view, "row");
    check_labels(col_tokens, map.cols, view, "column");
    const std::string v(view);
    if (o.top < 0) throw Error(v + ": top must be >= 0");
    if (!(o.enlarged_size >= 1) || !std::isfinite(o.enlarged_size)) {
        throw Error(v + ": enlarged_size must be >= 1");
    }
    if (o.length_threshold < 0 || o.label_interval < 0) {
        throw Error(v + ": length_threshold and label_interval must be >= 0");
    }
    if (!(o.cell >= 0) || !std::isfinite(o.cell)) throw Error(v + ": cell size must be >= 0");
    auto [lo, hi] = value_range(map, o.causal_mask);
    if (o.vmin) lo = *o.vmin;
    std::string note;
    if (o.vmax) {
        hi = *o.vmax;
    } else if (std::max(map.rows, map.cols) > o.length_threshold) {
        hi = clipped_top(map.values, map.rows, map.cols, o.causal_mask, lo, hi, o.clip_percentile,
                         note);
    }
    if (!std::isfinite(lo) || !std::isfinite(hi) || ((o.vmin || o.vmax) && !(hi > lo))) {
        throw Error(v + ": vmin must be below vmax (got " + format_fixed(lo, 4) + " and " +
                    format_fixed(hi, 4) + ")");
    }
    for (const CellRegion& g : o.regions) {
        if (g.r0 < 0 || g.c0 < 0 || g.r0 > g.r1 || g.c0 > g.c1 || g.r1 >= map.rows ||
            g.c1 >= map.cols) {
            throw Error(v + ": region (" + std::to_string(g.r0) + "," + std::to_string(g.c0) +
                        ")-(" + std::to_string(g.r1) + "," + std::to_string(g.c1) +
                        ") is not inside the " + std::to_string(map.rows) + "x" +
                        std::to_string(map.cols) + " map");
        }
    }
    Lens lens;
    lens.map = map;
    lens.row_tokens = row_tokens;
    lens.col_tokens = col_tokens;
    lens.title = o.title;
    lens.x_label = o.x_label;
    lens.y_label = o.y_label;
    lens.scale = make_scale(o.colormap, lo, hi, o.gamma);
    lens.scale.note = std::move(note);
    lens.top = top_cells_at(map, o.top, o.causal_mask, 0, 0);
    lens.enlarged = o.enlarged_size;
    lens.regions = o.regions;
    lens.causal = o.causal_mask;
    lens.length_threshold = o.length_threshold;
    lens.label_interval = o.label_interval;
    lens.cell = o.cell;
    return lens;
}

}  // namespace detail

namespace {

// Five panels: A->A and B->B side by side, then A->B and B->A, then the whole map with the one
// colour bar. User regions are in whole-map coordinates, so they are outlined on panel 5 only.
Scene question_context(const Font& font, const detail::Lens& whole, const HeatmapOptions& o) {
    using namespace detail;
    const int seq = whole.map.rows;
    if (whole.map.cols != seq) {
        throw Error("heatmap: question-context mode needs a square map (got " +
                    std::to_string(whole.map.rows) + "x" + std::to_string(whole.map.cols) + ")");
    }
    const std::vector<QuestionContextPanel> panels = question_context_panels(seq, o.question_split);
    const float cell = o.cell > 0 ? o.cell : auto_cell(seq);

    std::vector<std::vector<float>> blocks(panels.size());
    std::vector<Lens> lenses(panels.size());
    std::vector<LensLayout> layouts(panels.size());
    for (size_t p = 0; p < panels.size(); ++p) {
        const QuestionContextPanel& q = panels[p];
        std::vector<float>& block = blocks[p];
        block.reserve(size_t(q.rows) * size_t(q.cols));
        for (int r = 0; r < q.rows; ++r) {
            for (int c = 0; c < q.cols; ++c) block.push_back(whole.map.at(q.row0 + r, q.col0 + c));
        }
        Lens& lens = lenses[p];
        lens = whole;
        lens.map = MapView{block, q.rows, q.cols};
        auto sub = [](std::span<const std::string> t, int start, int n) {
            return t.empty() ? t : t.subspan(size_t(start), size_t(n));
        };
        lens.row_tokens = sub(whole.row_tokens, q.row0, q.rows);
        lens.col_tokens = sub(whole.col_tokens, q.col0, q.cols);
        lens.row_offset = q.row0;
        lens.col_offset = q.col0;
        lens.title = q.title;
        lens.cell = cell;
        lens.top = top_cells_at(lens.map, o.top, o.causal_mask, q.row0, q.col0);
        if (p + 1 != panels.size()) lens.regions.clear();
        layouts[p] = layout_lens(font, lens);
    }

    Scene scene;
    float y = 0;
    if (!o.title.empty()) {
        scene.items.emplace_back(
            TextItem{o.title, 0, kMargin, 16, kDarkText, Anchor::Middle, Baseline::Top, 0, true});
        y = kMargin + 16 * 1.3f;
    }
    const float bar_w = o.colorbar ? colorbar_width(font, whole.scale) : 0;
    float width = 0;
    for (size_t start : {size_t(0), size_t(2), size_t(4)}) {
        float x = 0, row_h = 0;
        for (size_t p = start; p < std::min(start + 2, panels.size()); ++p) {
            shift(layouts[p], x, y);
            x += layouts[p].width;
            row_h = std::max(row_h, layouts[p].height);
        }
        if (start == 4 && o.colorbar) {
            const LensLayout& last = layouts[4];
            x = std::max(x, last.grid_x + last.grid_w + bar_w);
            row_h = std::max(
                row_h, last.grid_y - y + std::max(last.grid_h, colorbar_min_height()) + kMargin);
        }
        width = std::max(width, x);
        y += row_h;
    }
    if (!o.title.empty()) width = std::max(width, font.text_width(o.title, 16, true) + 2 * kMargin);
    scene.width = width;
    scene.height = y;
    if (!o.title.empty()) std::get<TextItem>(scene.items.front()).x = 0.5f * width;

    size_t cells = 0;
    for (const Lens& lens : lenses) cells += lens.map.values.size();
    scene.items.reserve(cells + 20 * size_t(seq) + 2048);
    for (size_t p = 0; p < panels.size(); ++p) {
        draw_cells(scene, lenses[p], layouts[p]);
        draw_decorations(scene, font, lenses[p], layouts[p]);
    }
    if (o.colorbar) {
        const LensLayout& last = layouts[4];
        draw_colorbar(scene, font, whole.scale, last.grid_x + last.grid_w, last.grid_y,
                      std::max(last.grid_h, colorbar_min_height()));
    }
    return scene;
}

}  // namespace

Scene heatmap(const Font& font, const MapView& map, std::span<const std::string> row_tokens,
              std::span<const std::string> col_tokens, const HeatmapOptions& options) {
    const detail::Lens lens =
        detail::lens_from_options(map, row_tokens, col_tokens, options, "heatmap");
    if (options.question_split >= 0) return question_context(font, lens, options);
    return detail::single_panel(font, lens, options.colorbar, {});
}

}  // namespace headmap::viz
