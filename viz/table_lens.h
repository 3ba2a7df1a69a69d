// Internal to the views: the shared "table lens" heatmap panel (IzzyViz's base figure) that
// heatmap, regions, compare, difference, stability and evolution draw on, plus the colour bar.
// A panel is laid out first (sizes measured with the Font so nothing is clipped), then drawn in
// two passes so a view can put circles or sparklines between the cells and the labels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "viz/font.h"
#include "viz/scene.h"
#include "viz/views.h"

namespace headmap::viz::detail {

// A colormap behind a power norm. index(v) == the LUT index of power_norm(v) exactly, but
// views call it once per cell (S^2 times), so most values skip the pow: `bucket` maps
// u = (v - vmin) / (vmax - vmin) in [b / 4096, (b + 1) / 4096) to its index when the whole
// bucket shares one (-1 where a LUT boundary falls inside; pow is monotonic).
struct ColorScale {
    std::vector<Color> lut;  // 256 entries
    float vmin = 0, vmax = 1, gamma = 1;
    std::string note;             // drawn above the colour bar, e.g. how its top was chosen
    std::vector<int16_t> bucket;  // kBuckets entries
    static constexpr int kBuckets = 4096;

    float t(float v) const { return power_norm(v, vmin, vmax, gamma); }
    int index(float v) const {
        if (!std::isfinite(v) || !(vmax > vmin)) return 0;
        const float u = (v - vmin) / (vmax - vmin);  // as power_norm computes it
        if (!(u > 0)) return 0;
        if (u >= 1) return 255;
        const int b = bucket[size_t(int(u * float(kBuckets)))];
        if (b >= 0) return b;
        return std::min(int((gamma == 1.0f ? u : std::pow(u, gamma)) * 256.0f), 255);
    }
    Color operator()(float v) const { return lut[size_t(index(v))]; }
};
// headmap::Error for an unknown colormap or a gamma that is not > 0.
ColorScale make_scale(std::string_view cmap, float vmin, float vmax, float gamma);

inline constexpr Color kMaskedFill{238, 238, 238, 255};  // causal upper triangle, non-finite cells
inline constexpr Color kDarkText{38, 38, 38, 255};
inline constexpr Color kWhite{255, 255, 255, 255};
inline constexpr float kMargin = 12;

// Shape checks with messages that name the view.
void check_map(const MapView& map, std::string_view view);
void check_labels(std::span<const std::string> tokens, int n, std::string_view view,
                  std::string_view axis);
void check_same_shape(const MapView& a, const MapView& b, std::string_view view);
// A series of maps (stability's runs, evolution's steps): at least one, all of the first's shape;
// `item` names one map in messages ("run", "step").
void check_series(std::span<const MapView> maps, std::string_view view, std::string_view item);

inline bool is_masked(bool causal, int row, int col) {
    return causal && col > row;
}
// Min and max over the finite values (allowed cells only under a causal mask); {0, 0} if none.
std::pair<float, float> value_range(const MapView& map, bool causal);
// The `percentile` (0..100) of the finite allowed cells of `maps` (row-major rows x cols maps, one
// after another), from at most ~2^18 of them taken at a fixed stride; NaN if none.
float value_percentile(std::span<const float> maps, int rows, int cols, bool causal,
                       float percentile);
// For a long map without a fixed top: the scale's top clipped to the percentile (when that is
// inside the range), with the bar's note saying so. Returns the new top.
float clipped_top(std::span<const float> maps, int rows, int cols, bool causal, float lo, float hi,
                  float percentile, std::string& note);
// Relative luminance (WCAG) > 0.408, seaborn's rule for dark annotation text.
bool is_light(Color c);
// Cell size for n tokens: about 640 px in all, 2..36 px a cell.
float auto_cell(int n);

struct Lens {
    MapView map;
    std::span<const std::string> row_tokens, col_tokens;  // empty: indices as labels
    int row_offset = 0, col_offset = 0;  // this block's place in the full map (causal mask)
    std::string title, x_label, y_label;
    ColorScale scale;
    std::vector<int> top;  // selected cells, row-major indices into `map`
    float enlarged = 1.8f;
    bool annotate = true;  // value annotations on top cells (never with sparse labels)
    bool highlight = true;
    std::vector<CellRegion> regions;
    Color region_color{214, 39, 40, 255};
    bool causal = false;
    int length_threshold = 64, label_interval = 0;
    float cell = 0;
};

struct LensLayout {
    float width = 0, height = 0;  // the panel's box, origin (x, y)
    float x = 0, y = 0;
    float grid_x = 0, grid_y = 0, grid_w = 0, grid_h = 0;
    float cell = 0, label_size = 0, rotation = -90;  // column labels turned by `rotation`
    bool sparse_rows = false, sparse_cols = false, grid_lines = false;
    std::vector<float> col_edges, row_edges;  // scene coordinates, cols + 1 / rows + 1
    std::vector<char> top_row, top_col;
    std::vector<int> row_labels, col_labels;      // indices that get a label
    std::vector<std::string> row_text, col_text;  // their display strings (elided)
    float title_y = 0, x_label_y = 0, y_label_x = 0, y_label_y = 0;
};

LensLayout layout_lens(const Font& font, const Lens& lens);
void shift(LensLayout& layout, float dx, float dy);
// Cell rectangles first, in row-major order, one per cell (masked cells grey), then the causal
// hatching and the white grid lines.
void draw_cells(Scene& scene, const Lens& lens, const LensLayout& layout);
// Region outlines, value annotations, labels (highlighted, bold specials), title, axis labels.
void draw_decorations(Scene& scene, const Font& font, const Lens& lens, const LensLayout& layout);

// Vertical colour bar: linear in value (so its round 1-2-5 ticks are evenly spaced on the bar and
// the gamma shows as the colour gradient). Width includes the gap before it.
float colorbar_width(const Font& font, const ColorScale& scale);
inline float colorbar_min_height() {
    return 140;
}
void draw_colorbar(Scene& scene, const Font& font, const ColorScale& scale, float x, float y,
                   float h);

// One panel plus colour bar as a whole scene; `overlay` runs between cells and decorations.
using Overlay = std::function<void(Scene&, const LensLayout&)>;
Scene single_panel(const Font& font, const Lens& lens, bool colorbar, const Overlay& overlay,
                   LensLayout* layout_out = nullptr);

// top_cells for a block of a bigger map: the causal mask is judged at the block's place.
std::vector<int> top_cells_at(const MapView& map, int n, bool causal, int row_offset,
                              int col_offset);
// The Lens for a heatmap-style view from HeatmapOptions (validated; headmap::Error on bad
// options or regions outside the map).
Lens lens_from_options(const MapView& map, std::span<const std::string> row_tokens,
                       std::span<const std::string> col_tokens, const HeatmapOptions& options,
                       std::string_view view);

// Appends a line of explanation below the figure (widening the scene if it needs to).
void add_legend(Scene& scene, const Font& font, const std::string& text);

// Number formatting shared by annotations and ticks ("%.*f").
std::string format_fixed(double v, int decimals);

}  // namespace headmap::viz::detail
