// The shared table-lens panel: layout (measured, so nothing is clipped), cells, labels, colour bar.
#include "viz/table_lens.h"

#include <cmath>
#include <cstdio>
#include <numbers>
#include <set>

#include "headmap/error.hpp"

namespace headmap::viz {

float power_norm(float v, float vmin, float vmax, float gamma) {
    if (!std::isfinite(v) || !(vmax > vmin)) return 0;
    const float u = (v - vmin) / (vmax - vmin);
    if (!(u > 0)) return 0;  // also NaN from an infinite range
    if (u >= 1) return 1;
    return gamma == 1.0f ? u : std::pow(u, gamma);
}

namespace detail {
namespace {

constexpr float kTitleSize = 14, kAxisLabelSize = 12, kTickSize = 10;
constexpr float kLabelGap = 4;  // between a label and the grid
constexpr float kMaxLabelWidth = 110;
constexpr float kBarGap = 14, kBarWidth = 14;
constexpr Color kHighlight{248, 187, 208, 170};  // IzzyViz's #f8bbd0 label boxes
constexpr Color kHatch{189, 189, 189, 255};

std::string label_text(std::span<const std::string> tokens, int index, int offset) {
    return tokens.empty() ? std::to_string(offset + index) : display_token(tokens[size_t(index)]);
}
bool label_bold(std::span<const std::string> tokens, int index) {
    return !tokens.empty() && is_special_token(tokens[size_t(index)]);
}

// Cumulative, pixel-snapped edges (snapping lets the raster back end take its fast path and
// keeps neighbouring cells from sharing an anti-aliased seam).
std::vector<float> edges(const std::vector<char>& enlarged, float cell, float factor) {
    std::vector<float> out(enlarged.size() + 1, 0);
    double pos = 0;
    for (size_t i = 0; i < enlarged.size(); ++i) {
        pos += enlarged[i] ? double(cell) * factor : double(cell);
        out[i + 1] = cell >= 1 ? float(std::round(pos)) : float(pos);
    }
    return out;
}

// Which indices of a sparse axis get labels: top-cell rows/columns first, then special tokens,
// then every `interval`-th index, each only if it does not overlap one already taken.
std::vector<int> sparse_labels(const std::vector<char>& top, const std::vector<char>& special,
                               int interval, const std::vector<float>& e, float size) {
    std::vector<int> out;
    std::set<float> centres;
    const float min_gap = size * 1.15f;
    auto try_take = [&](int i) {
        const float c = 0.5f * (e[size_t(i)] + e[size_t(i) + 1]);
        auto it = centres.lower_bound(c - min_gap + 1e-4f);
        if (it != centres.end() && *it < c + min_gap - 1e-4f) return;
        centres.insert(c);
        out.push_back(i);
    };
    const int n = int(top.size());
    for (int i = 0; i < n; ++i) {
        if (top[size_t(i)]) try_take(i);
    }
    for (int i = 0; i < n; ++i) {
        if (special[size_t(i)] && !top[size_t(i)]) try_take(i);
    }
    if (interval > 0) {
        for (int i = 0; i < n; i += interval) {
            if (!top[size_t(i)] && !special[size_t(i)]) try_take(i);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The label step of a long axis: the smallest 1-2-5 number of cells that leaves room for a label
// of `size` px, so that every input length keeps labels (85 tokens: every 2nd; 512: every 5th).
int auto_label_interval(float size, float cell) {
    const double need = std::ceil(double(size) * 1.15 / std::max(double(cell), 1e-3) - 1e-6);
    for (double magnitude = 1;; magnitude *= 10) {
        for (double m : {1.0, 2.0, 5.0}) {
            if (m * magnitude >= need) return int(m * magnitude);
        }
    }
}

// Piecewise-linear map from a cell coordinate to pixels through the (snapped) edges.
float to_px(const std::vector<float>& e, float x) {
    const int n = int(e.size()) - 1;
    int i = std::clamp(int(std::floor(x)), 0, n - 1);
    return e[size_t(i)] + (x - float(i)) * (e[size_t(i) + 1] - e[size_t(i)]);
}

// Indices where the cell size changes: the only places a diagonal hatch line bends.
std::vector<float> size_breaks(const std::vector<char>& enlarged) {
    std::vector<float> out;
    for (size_t i = 1; i < enlarged.size(); ++i) {
        if (enlarged[i] != enlarged[i - 1]) out.push_back(float(i));
    }
    return out;
}

}  // namespace

ColorScale make_scale(std::string_view cmap, float vmin, float vmax, float gamma) {
    if (!(gamma > 0) || !std::isfinite(gamma)) {
        throw Error("gamma must be a positive number (got " + format_fixed(gamma, 3) + ")");
    }
    ColorScale s;
    s.lut = colormap(cmap).table;
    s.vmin = vmin;
    s.vmax = vmax;
    s.gamma = gamma;
    s.bucket.resize(ColorScale::kBuckets);
    auto index_of = [&](float u) {  // power_norm's branches, from u
        const float t = !(u > 0) ? 0.0f : u >= 1 ? 1.0f : gamma == 1.0f ? u : std::pow(u, gamma);
        return std::min(int(t * 256.0f), 255);
    };
    for (int b = 0; b < ColorScale::kBuckets; ++b) {
        const float lo = float(b) / ColorScale::kBuckets;
        const float hi = std::nextafter(float(b + 1) / ColorScale::kBuckets, 0.0f);
        const int i = index_of(lo);
        s.bucket[size_t(b)] = int16_t(i == index_of(hi) ? i : -1);
    }
    return s;
}

void check_map(const MapView& map, std::string_view view) {
    if (map.rows <= 0 || map.cols <= 0) {
        throw Error(std::string(view) + ": the map is empty (" + std::to_string(map.rows) + "x" +
                    std::to_string(map.cols) + ")");
    }
    if (map.values.size() != size_t(map.rows) * size_t(map.cols)) {
        throw Error(std::string(view) + ": a " + std::to_string(map.rows) + "x" +
                    std::to_string(map.cols) + " map needs " +
                    std::to_string(size_t(map.rows) * size_t(map.cols)) + " values, got " +
                    std::to_string(map.values.size()));
    }
}

void check_labels(std::span<const std::string> tokens, int n, std::string_view view,
                  std::string_view axis) {
    if (!tokens.empty() && tokens.size() != size_t(n)) {
        throw Error(std::string(view) + ": " + std::to_string(tokens.size()) + " " +
                    std::string(axis) + " tokens for " + std::to_string(n) + " " +
                    std::string(axis) + "s");
    }
}

void check_series(std::span<const MapView> maps, std::string_view view, std::string_view item) {
    if (maps.empty()) throw Error(std::string(view) + ": no " + std::string(item) + "s given");
    for (size_t i = 0; i < maps.size(); ++i) {
        check_map(maps[i], view);
        if (maps[i].rows != maps[0].rows || maps[i].cols != maps[0].cols) {
            throw Error(std::string(view) + ": " + std::string(item) + " " + std::to_string(i + 1) +
                        " is " + std::to_string(maps[i].rows) + "x" + std::to_string(maps[i].cols) +
                        " but " + std::string(item) + " 1 is " + std::to_string(maps[0].rows) +
                        "x" + std::to_string(maps[0].cols));
        }
    }
}

void check_same_shape(const MapView& a, const MapView& b, std::string_view view) {
    if (a.rows != b.rows || a.cols != b.cols) {
        throw Error(std::string(view) + ": the maps differ in shape (" + std::to_string(a.rows) +
                    "x" + std::to_string(a.cols) + " vs " + std::to_string(b.rows) + "x" +
                    std::to_string(b.cols) + ")");
    }
}

std::pair<float, float> value_range(const MapView& map, bool causal) {
    float lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < map.rows; ++r) {
        const int end = causal ? std::min(map.cols, r + 1) : map.cols;
        const float* row = map.values.data() + size_t(r) * size_t(map.cols);
        for (int c = 0; c < end; ++c) {
            if (!std::isfinite(row[c])) continue;
            lo = std::min(lo, row[c]);
            hi = std::max(hi, row[c]);
        }
    }
    return lo <= hi ? std::pair{lo, hi} : std::pair{0.0f, 0.0f};
}

float value_percentile(std::span<const float> maps, int rows, int cols, bool causal,
                       float percentile) {
    const size_t per_map = size_t(rows) * size_t(cols);
    if (per_map == 0 || maps.empty()) return NAN;
    const size_t count = maps.size() / per_map;
    size_t allowed = 0;  // per map
    for (int r = 0; r < rows; ++r) allowed += size_t(causal ? std::min(cols, r + 1) : cols);
    const size_t stride = std::max<size_t>(1, allowed * count >> 18);
    std::vector<float> sample;
    sample.reserve(allowed * count / stride + 1);
    size_t k = 0;
    for (size_t m = 0; m < count; ++m)
        for (int r = 0; r < rows; ++r) {
            const float* row = maps.data() + m * per_map + size_t(r) * size_t(cols);
            const int end = causal ? std::min(cols, r + 1) : cols;
            for (int c = 0; c < end; ++c, ++k)
                if (k % stride == 0 && std::isfinite(row[c])) sample.push_back(row[c]);
        }
    if (sample.empty()) return NAN;
    const double q = std::clamp(double(percentile), 0.0, 100.0) / 100.0;
    const size_t at = std::min(sample.size() - 1, size_t(q * double(sample.size() - 1) + 0.5));
    std::nth_element(sample.begin(), sample.begin() + ptrdiff_t(at), sample.end());
    return sample[at];
}

float clipped_top(std::span<const float> maps, int rows, int cols, bool causal, float lo, float hi,
                  float percentile, std::string& note) {
    if (!(percentile > 0 && percentile < 100)) return hi;
    const float top = value_percentile(maps, rows, cols, causal, percentile);
    if (!(top > lo && top < hi)) return hi;
    note = "top: " + format_fixed(percentile, percentile == std::round(percentile) ? 0 : 1) +
           "th pct.";
    return top;
}

bool is_light(Color c) {
    auto lin = [](uint8_t v) {
        const double s = v / 255.0;
        return s <= 0.03928 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b) > 0.408;
}

float auto_cell(int n) {
    return std::round(std::clamp(640.0f / float(std::max(n, 1)), 2.0f, 36.0f));
}

std::string format_fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    // "-0.000" reads as a sign where there is none.
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    return s;
}

std::vector<int> top_cells_at(const MapView& map, int n, bool causal, int row_offset,
                              int col_offset) {
    if (n <= 0) return {};
    std::vector<float> values;
    values.reserve(map.values.size());
    for (int r = 0; r < map.rows; ++r) {
        for (int c = 0; c < map.cols; ++c) {
            const float v = map.at(r, c);
            if (std::isfinite(v) && !is_masked(causal, r + row_offset, c + col_offset)) {
                values.push_back(v);
            }
        }
    }
    if (values.empty()) return {};
    const size_t k = std::min(size_t(n), values.size()) - 1;
    std::nth_element(values.begin(), values.begin() + ptrdiff_t(k), values.end(),
                     std::greater<float>());
    const float threshold = values[k];
    std::vector<int> out;
    for (int r = 0; r < map.rows; ++r) {
        for (int c = 0; c < map.cols; ++c) {
            const float v = map.at(r, c);
            if (std::isfinite(v) && v >= threshold &&
                !is_masked(causal, r + row_offset, c + col_offset)) {
                out.push_back(r * map.cols + c);
            }
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [&](int a, int b) { return map.values[size_t(a)] > map.values[size_t(b)]; });
    return out;
}

LensLayout layout_lens(const Font& font, const Lens& lens) {
    LensLayout L;
    const int rows = lens.map.rows, cols = lens.map.cols;
    L.cell = lens.cell > 0 ? lens.cell : auto_cell(std::max(rows, cols));
    L.top_row.assign(size_t(rows), 0);
    L.top_col.assign(size_t(cols), 0);
    for (int idx : lens.top) {
        L.top_row[size_t(idx / cols)] = 1;
        L.top_col[size_t(idx % cols)] = 1;
    }
    L.col_edges = edges(L.top_col, L.cell, lens.enlarged);
    L.row_edges = edges(L.top_row, L.cell, lens.enlarged);
    L.grid_w = L.col_edges.back();
    L.grid_h = L.row_edges.back();
    L.grid_lines = L.cell >= 14;

    // An axis is sparse when it is long (IzzyViz's length_threshold) or its cells are too small
    // for a readable label.
    const bool tiny = 0.8f * L.cell < 5;
    L.sparse_rows = rows > lens.length_threshold || tiny;
    L.sparse_cols = cols > lens.length_threshold || tiny;
    L.label_size = std::clamp(0.8f * L.cell, (L.sparse_rows || L.sparse_cols) ? 8.0f : 5.0f, 12.0f);
    L.rotation = (L.cell >= 18 && !L.sparse_cols) ? -45.0f : -90.0f;

    // Long axes keep every k-th label (k from the label size and the cell size unless given),
    // special tokens and the top cells' rows and columns.
    const int interval =
        lens.label_interval > 0 ? lens.label_interval : auto_label_interval(L.label_size, L.cell);
    auto pick = [&](bool sparse, const std::vector<char>& top, const std::vector<float>& e,
                    std::span<const std::string> tokens) {
        if (!sparse) {
            std::vector<int> all(top.size());
            for (size_t i = 0; i < all.size(); ++i) all[i] = int(i);
            return all;
        }
        std::vector<char> special(top.size(), 0);
        for (size_t i = 0; i < tokens.size() && i < special.size(); ++i) {
            special[i] = is_special_token(tokens[i]) ? 1 : 0;
        }
        return sparse_labels(top, special, interval, e, L.label_size);
    };
    L.row_labels = pick(L.sparse_rows, L.top_row, L.row_edges, lens.row_tokens);
    L.col_labels = pick(L.sparse_cols, L.top_col, L.col_edges, lens.col_tokens);

    const float s = L.label_size;
    float row_w = 0, col_extent = 0, col_right = 0;
    for (int i : L.row_labels) {
        const bool bold = label_bold(lens.row_tokens, i);
        std::string t =
            font.elide(label_text(lens.row_tokens, i, lens.row_offset), s, kMaxLabelWidth, bold);
        row_w = std::max(row_w, font.text_width(t, s, bold));
        L.row_text.push_back(std::move(t));
    }
    const float cos_r = std::cos(L.rotation * std::numbers::pi_v<float> / 180),
                sin_r = -std::sin(L.rotation * std::numbers::pi_v<float> / 180);
    for (int j : L.col_labels) {
        const bool bold = label_bold(lens.col_tokens, j);
        std::string t =
            font.elide(label_text(lens.col_tokens, j, lens.col_offset), s, kMaxLabelWidth, bold);
        const float w = font.text_width(t, s, bold) + 2;  // + the highlight's padding
        const float cx = 0.5f * (L.col_edges[size_t(j)] + L.col_edges[size_t(j) + 1]);
        // Rotated extents: along the text, plus half the text height across it.
        col_extent = std::max(col_extent, w * sin_r + 0.7f * s * cos_r);
        col_right = std::max(col_right, cx + w * cos_r + 0.7f * s * sin_r);
        L.col_text.push_back(std::move(t));
    }

    // Vertical: title, x label, column labels, grid.
    float y = kMargin;
    if (!lens.title.empty()) {
        L.title_y = y;
        y += kTitleSize * 1.3f + 4;
    }
    if (!lens.x_label.empty()) {
        L.x_label_y = y;
        y += kAxisLabelSize * 1.3f + 2;
    }
    L.grid_y = y + (L.col_labels.empty() ? 2 : col_extent + kLabelGap + 2);

    // Horizontal: y label, row labels, grid; then make room for a title wider than the grid.
    float x = kMargin;
    if (!lens.y_label.empty()) {
        L.y_label_x = x;
        x += kAxisLabelSize * 1.3f + 4;
    }
    L.grid_x = x + (L.row_labels.empty() ? 2 : row_w + kLabelGap + 4);
    float half_text = 0;
    if (!lens.title.empty()) half_text = 0.5f * font.text_width(lens.title, kTitleSize, true);
    if (!lens.x_label.empty()) {
        half_text = std::max(half_text, 0.5f * font.text_width(lens.x_label, kAxisLabelSize));
    }
    L.grid_x += std::max(0.0f, kMargin - (L.grid_x + 0.5f * L.grid_w - half_text));
    // Whole pixels for the grid (and panel sizes, so panels placed side by side stay aligned).
    L.grid_x = std::ceil(L.grid_x);
    L.grid_y = std::ceil(L.grid_y);
    L.width = std::max({L.grid_x + L.grid_w, L.grid_x + col_right,
                        L.grid_x + 0.5f * L.grid_w + half_text}) +
              kMargin;
    L.height = L.grid_y + L.grid_h + kMargin;
    if (!lens.y_label.empty()) {
        // A label longer than a short grid starts below the x label and stays inside the panel.
        const float half = 0.5f * font.text_width(lens.y_label, kAxisLabelSize);
        const float top = lens.x_label.empty() ? kMargin : L.x_label_y + kAxisLabelSize * 1.3f + 4;
        L.y_label_y = std::max(L.grid_y + 0.5f * L.grid_h, top + half);
        L.height = std::max(L.height, L.y_label_y + half + kMargin);
    }
    L.width = std::ceil(L.width);
    L.height = std::ceil(L.height);
    for (float& e : L.col_edges) e += L.grid_x;
    for (float& e : L.row_edges) e += L.grid_y;
    return L;
}

void shift(LensLayout& L, float dx, float dy) {
    L.x += dx;
    L.y += dy;
    L.grid_x += dx;
    L.grid_y += dy;
    L.title_y += dy;
    L.x_label_y += dy;
    L.y_label_x += dx;
    L.y_label_y += dy;
    for (float& e : L.col_edges) e += dx;
    for (float& e : L.row_edges) e += dy;
}

void draw_cells(Scene& scene, const Lens& lens, const LensLayout& L) {
    const int rows = lens.map.rows, cols = lens.map.cols;
    if (scene.items.capacity() < scene.items.size() + size_t(rows) * size_t(cols) + 64) {
        scene.items.reserve(scene.items.size() + size_t(rows) * size_t(cols) + 64);
    }
    const ColorScale& sc = lens.scale;
    bool any_masked = false;
    for (int r = 0; r < rows; ++r) {
        const float y0 = L.row_edges[size_t(r)], h = L.row_edges[size_t(r) + 1] - y0;
        const float* row = lens.map.values.data() + size_t(r) * size_t(cols);
        for (int c = 0; c < cols; ++c) {
            const float x0 = L.col_edges[size_t(c)], w = L.col_edges[size_t(c) + 1] - x0;
            const float v = row[c];
            Color color = kMaskedFill;
            if (is_masked(lens.causal, r + lens.row_offset, c + lens.col_offset)) {
                any_masked = true;
            } else if (std::isfinite(v)) {
                color = sc.lut[size_t(sc.index(v))];
            }
            scene.items.emplace_back(RectItem{x0, y0, w, h, color});
        }
    }

    if (any_masked) {
        // Hatch lines x - y = k (cell units) parallel to the diagonal; masked cells are
        // col - row > d. Lines with k > d + 1 stay inside masked cells all along; the first
        // superdiagonal's lower-left halves (d < k < d + 1) get one short segment per row.
        const float d = float(lens.row_offset - lens.col_offset);
        const float step = std::max(6.0f / L.cell, 0.25f);
        const std::vector<float> col_breaks = size_breaks(L.top_col),
                                 row_breaks = size_breaks(L.top_row);
        scene.items.emplace_back(ClipBegin{L.grid_x, L.grid_y, L.grid_w, L.grid_h});
        if (L.cell >= 8) {  // big cells only: the segments cost one item per row
            for (float k = d + 1 - 0.5f * step; k > d + 1e-3f; k -= step) {
                for (int r = 0; r < rows; ++r) {
                    const int c = r + int(d) + 1;  // the row's first masked column
                    if (c < 0 || c >= cols) continue;
                    const float y0 = float(c) - k, y1 = float(r + 1);
                    PolylineItem seg;
                    seg.stroke = kHatch;
                    seg.width = 1;
                    seg.points = {{to_px(L.col_edges, float(c)), to_px(L.row_edges, y0)},
                                  {to_px(L.col_edges, y1 + k), to_px(L.row_edges, y1)}};
                    scene.items.emplace_back(std::move(seg));
                }
            }
        }
        for (float k = d + 1 + 0.5f * step; k < float(cols); k += step) {
            const float y_lo = std::max(0.0f, -k), y_hi = std::min(float(rows), float(cols) - k);
            if (y_hi - y_lo <= 1e-3f) continue;
            std::vector<float> ys{y_lo, y_hi};
            for (float b : col_breaks) {
                if (b - k > y_lo && b - k < y_hi) ys.push_back(b - k);
            }
            for (float b : row_breaks) {
                if (b > y_lo && b < y_hi) ys.push_back(b);
            }
            std::sort(ys.begin(), ys.end());
            PolylineItem line;
            line.stroke = kHatch;
            line.width = 1;
            for (float yy : ys)
                line.points.push_back({to_px(L.col_edges, yy + k), to_px(L.row_edges, yy)});
            scene.items.emplace_back(std::move(line));
        }
        scene.items.emplace_back(ClipEnd{});
    }

    if (L.grid_lines) {  // IzzyViz's white cell borders, where cells are big enough to afford them
        for (int c = 1; c < cols; ++c) {
            scene.items.emplace_back(
                RectItem{L.col_edges[size_t(c)], L.grid_y, 1, L.grid_h, kWhite});
        }
        for (int r = 1; r < rows; ++r) {
            scene.items.emplace_back(
                RectItem{L.grid_x, L.row_edges[size_t(r)], L.grid_w, 1, kWhite});
        }
    }
}

void draw_decorations(Scene& scene, const Font& font, const Lens& lens, const LensLayout& L) {
    const int cols = lens.map.cols;
    for (const CellRegion& g : lens.regions) {
        RectItem box;
        box.x = L.col_edges[size_t(g.c0)];
        box.y = L.row_edges[size_t(g.r0)];
        box.w = L.col_edges[size_t(g.c1) + 1] - box.x;
        box.h = L.row_edges[size_t(g.r1) + 1] - box.y;
        box.stroke = lens.region_color;
        box.stroke_width = 2;
        scene.items.emplace_back(box);
    }

    const bool sparse = L.sparse_rows || L.sparse_cols;
    if (lens.annotate && !sparse) {
        for (int idx : lens.top) {
            const int r = idx / cols, c = idx % cols;
            const float x0 = L.col_edges[size_t(c)], x1 = L.col_edges[size_t(c) + 1];
            const float y0 = L.row_edges[size_t(r)], y1 = L.row_edges[size_t(r) + 1];
            std::string text = format_fixed(lens.map.at(r, c), 3);
            const float w10 = font.text_width(text, 10) / 10;
            const float size =
                std::min({12.0f, 0.88f * (x1 - x0) / std::max(w10, 1e-3f), 0.6f * (y1 - y0)});
            if (size < 4) continue;
            const Color bg = lens.scale(lens.map.at(r, c));
            TextItem t{std::move(text),
                       0.5f * (x0 + x1),
                       0.5f * (y0 + y1),
                       size,
                       is_light(bg) ? kDarkText : kWhite,
                       Anchor::Middle,
                       Baseline::Middle};
            scene.items.emplace_back(std::move(t));
        }
    }

    const float s = L.label_size;
    for (size_t k = 0; k < L.row_labels.size(); ++k) {
        const int i = L.row_labels[k];
        const bool bold = label_bold(lens.row_tokens, i);
        const float cy = 0.5f * (L.row_edges[size_t(i)] + L.row_edges[size_t(i) + 1]);
        const float x = L.grid_x - kLabelGap;
        if (lens.highlight && !sparse && L.top_row[size_t(i)]) {
            const float w = font.text_width(L.row_text[k], s, bold);
            scene.items.emplace_back(
                RectItem{x - w - 2, cy - 0.7f * s, w + 4, 1.4f * s, kHighlight});
        }
        scene.items.emplace_back(
            TextItem{L.row_text[k], x, cy, s, kDarkText, Anchor::End, Baseline::Middle, 0, bold});
    }
    const float rad = L.rotation * std::numbers::pi_v<float> / 180;
    const Point dir{std::cos(rad), std::sin(rad)};
    for (size_t k = 0; k < L.col_labels.size(); ++k) {
        const int j = L.col_labels[k];
        const bool bold = label_bold(lens.col_tokens, j);
        const float cx = 0.5f * (L.col_edges[size_t(j)] + L.col_edges[size_t(j) + 1]);
        const float y = L.grid_y - kLabelGap;
        if (lens.highlight && !sparse && L.top_col[size_t(j)]) {
            // A thick line along the rotated label is a rotated box.
            const float w = font.text_width(L.col_text[k], s, bold);
            PolylineItem box;
            box.points = {{cx - 2 * dir.x, y - 2 * dir.y},
                          {cx + (w + 2) * dir.x, y + (w + 2) * dir.y}};
            box.stroke = kHighlight;
            box.width = 1.4f * s;
            scene.items.emplace_back(std::move(box));
        }
        scene.items.emplace_back(TextItem{L.col_text[k], cx, y, s, kDarkText, Anchor::Start,
                                          Baseline::Middle, L.rotation, bold});
    }

    const float cx = L.grid_x + 0.5f * L.grid_w;
    if (!lens.title.empty()) {
        scene.items.emplace_back(TextItem{lens.title, cx, L.title_y, kTitleSize, kDarkText,
                                          Anchor::Middle, Baseline::Top, 0, true});
    }
    if (!lens.x_label.empty()) {
        scene.items.emplace_back(TextItem{lens.x_label, cx, L.x_label_y, kAxisLabelSize, kDarkText,
                                          Anchor::Middle, Baseline::Top});
    }
    if (!lens.y_label.empty()) {
        scene.items.emplace_back(TextItem{lens.y_label, L.y_label_x, L.y_label_y, kAxisLabelSize,
                                          kDarkText, Anchor::Middle, Baseline::Top, -90});
    }
}

namespace {
// Round ticks: multiples of a 1-2-5 step (the smallest giving at most 7 ticks) inside the range,
// so a near-uniform map's bar reads 0.068, 0.070, ... and not its exact min and max in sixths.
std::vector<float> tick_values(const ColorScale& sc, int& decimals) {
    if (!(sc.vmax > sc.vmin)) {
        decimals = 3;
        return {sc.vmin};
    }
    const double lo = sc.vmin, hi = sc.vmax, raw = (hi - lo) / 6;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * magnitude;
    for (double m : {1.0, 2.0, 5.0}) {
        if (m * magnitude >= raw * (1 - 1e-5)) {  // float ranges: 0.6f / 6 is 0.1
            step = m * magnitude;
            break;
        }
    }
    decimals = std::clamp(int(-std::floor(std::log10(step) + 1e-9)), 0, 12);
    std::vector<float> out;
    const double slack = 1e-6 * step;  // a bound that is itself a multiple stays a tick
    for (double k = std::ceil(lo / step - 1e-6); k * step <= hi + slack; ++k) {
        out.push_back(float(k * step));
    }
    return out;
}
}  // namespace

float colorbar_width(const Font& font, const ColorScale& scale) {
    int decimals = 2;
    float w = scale.note.empty() ? 0 : font.text_width(scale.note, kTickSize) - kBarWidth - 7;
    for (float v : tick_values(scale, decimals)) {
        w = std::max(w, font.text_width(format_fixed(v, decimals), kTickSize));
    }
    return kBarGap + 1 + kBarWidth + 7 + w + kMargin;
}

void draw_colorbar(Scene& scene, const Font& font, const ColorScale& sc, float x, float y,
                   float h) {
    (void)font;
    // Whole pixels, so the one-pixel strips meet without anti-aliased seams.
    x = std::round(x + kBarGap);
    y = std::round(y);
    h = std::round(h);
    // One strip per pixel row, equal neighbours merged: linear in value from vmax (top) down.
    const int n = std::max(1, int(std::lround(h)));
    const float px = h / float(n);
    int start = 0;
    Color run = sc(sc.vmax - (0.5f / float(n)) * (sc.vmax - sc.vmin));
    for (int j = 1; j <= n; ++j) {
        const Color c =
            j < n ? sc(sc.vmax - ((float(j) + 0.5f) / float(n)) * (sc.vmax - sc.vmin)) : Color{};
        if (j < n && c == run) continue;
        scene.items.emplace_back(
            RectItem{x, y + float(start) * px, kBarWidth, float(j - start) * px, run});
        start = j;
        run = c;
    }
    if (!sc.note.empty()) {
        scene.items.emplace_back(
            TextItem{sc.note, x, y - 4, kTickSize, kDarkText, Anchor::Start, Baseline::Bottom});
    }
    int decimals = 2;
    for (float v : tick_values(sc, decimals)) {
        const float f = sc.vmax > sc.vmin ? (v - sc.vmin) / (sc.vmax - sc.vmin) : 0.5f;
        const float ty = y + h * (1 - f);
        scene.items.emplace_back(RectItem{x + kBarWidth, ty - 0.5f, 4, 1, kDarkText});
        scene.items.emplace_back(TextItem{format_fixed(v, decimals), x + kBarWidth + 7, ty,
                                          kTickSize, kDarkText, Anchor::Start, Baseline::Middle});
    }
}

void add_legend(Scene& scene, const Font& font, const std::string& text) {
    constexpr float size = 11;
    // Wrapped at spaces to the figure's width (at least 320 px), so that a long caption adds
    // lines, not a blank strip beside the plot; a word longer than a line stands alone.
    const float width = std::max(scene.width - 2 * kMargin, 320.0f);
    std::vector<std::string> lines(1);
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(start, end - start);
        std::string& line = lines.back();
        const std::string joined = line.empty() ? word : line + " " + word;
        if (line.empty() || font.text_width(joined, size) <= width) {
            line = joined;
        } else {
            lines.push_back(word);
        }
        start = end + 1;
    }
    for (const std::string& line : lines) {
        scene.items.emplace_back(
            TextItem{line, kMargin, scene.height, size, kDarkText, Anchor::Start, Baseline::Top});
        scene.height += size * 1.3f;
        scene.width = std::max(scene.width, font.text_width(line, size) + 2 * kMargin);
    }
    scene.height += kMargin;
}

Scene single_panel(const Font& font, const Lens& lens, bool colorbar, const Overlay& overlay,
                   LensLayout* layout_out) {
    LensLayout L = layout_lens(font, lens);
    Scene scene;
    const float bar_h = std::max(L.grid_h, colorbar_min_height());
    scene.width = L.width;
    scene.height = L.height;
    if (colorbar) {
        scene.width = std::max(scene.width, L.grid_x + L.grid_w + colorbar_width(font, lens.scale));
        scene.height = std::max(scene.height, L.grid_y + bar_h + kMargin);
    }
    // Reserve once: a reallocation would copy every cell's item (a quarter million at S = 512).
    const size_t cells = lens.map.values.size();
    scene.items.reserve((overlay ? 2 * cells : cells) +
                        2 * (L.row_labels.size() + L.col_labels.size()) + lens.top.size() +
                        size_t(bar_h) + 256);
    draw_cells(scene, lens, L);
    if (overlay) overlay(scene, L);
    draw_decorations(scene, font, lens, L);
    if (colorbar) draw_colorbar(scene, font, lens.scale, L.grid_x + L.grid_w, L.grid_y, bar_h);
    if (layout_out) *layout_out = std::move(L);
    return scene;
}

}  // namespace detail
}  // namespace headmap::viz
