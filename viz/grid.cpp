// The layers x heads overview: one thumbnail per head, all under one colour scale.
//
// Thumbnails are small, so a map cell gets a whole number of pixels (or, for long inputs, a bin
// of k x k cells averaged into one pixel, like IzzyViz's display binning), and each thumbnail is
// emitted as one rectangle in its most common colour plus runs of equal colour along its rows:
// attention maps are mostly near zero, so this cuts the item count by an order of magnitude
// without changing a pixel.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {
namespace {

constexpr float kLabelSize = 11, kGap = 6, kCellLabelSize = 9;
constexpr int kMaskedIndex = 256;

// LUT indices (0..255, kMaskedIndex) of one thumbnail's bins, k x k cells averaged per bin.
void bin_map(const float* map, int seq, int k, int bins, bool causal, const detail::ColorScale& sc,
             int16_t* out, std::vector<double>& sum, std::vector<int>& count) {
    std::fill(out, out + size_t(bins) * size_t(bins), int16_t(kMaskedIndex));
    if (k == 1) {
        for (int r = 0; r < seq; ++r) {
            const float* row = map + size_t(r) * size_t(seq);
            int16_t* o = out + size_t(r) * size_t(seq);
            const int end = causal ? std::min(seq, r + 1) : seq;
            for (int c = 0; c < end; ++c) {
                if (std::isfinite(row[c])) o[c] = int16_t(sc.index(row[c]));
            }
        }
        return;
    }
    for (int br = 0; br < bins; ++br) {
        sum.assign(size_t(bins), 0.0);
        count.assign(size_t(bins), 0);
        for (int r = br * k; r < std::min(seq, (br + 1) * k); ++r) {
            const float* row = map + size_t(r) * size_t(seq);
            const int end = causal ? std::min(seq, r + 1) : seq;
            for (int c = 0; c < end; ++c) {
                if (!std::isfinite(row[c])) continue;
                sum[size_t(c / k)] += row[c];
                ++count[size_t(c / k)];
            }
        }
        for (int bc = 0; bc < bins; ++bc) {
            if (count[size_t(bc)] > 0) {
                out[size_t(br) * size_t(bins) + size_t(bc)] =
                    int16_t(sc.index(float(sum[size_t(bc)] / count[size_t(bc)])));
            }
        }
    }
}

}  // namespace

Scene grid(const Font& font, std::span<const float> maps, std::span<const int> layer_ids,
           std::span<const int> head_ids, int seq, const GridOptions& options) {
    using namespace detail;
    const size_t layers = layer_ids.size(), heads = head_ids.size();
    if (layers == 0 || heads == 0) throw Error("grid: no layers or no heads to show");
    if (seq <= 0)
        throw Error("grid: the maps are empty (sequence length " + std::to_string(seq) + ")");
    const size_t per_map = size_t(seq) * size_t(seq);
    if (maps.size() != layers * heads * per_map) {
        throw Error("grid: " + std::to_string(layers) + " layers x " + std::to_string(heads) +
                    " heads of " + std::to_string(seq) + "x" + std::to_string(seq) + " maps need " +
                    std::to_string(layers * heads * per_map) + " values, got " +
                    std::to_string(maps.size()));
    }
    if (!(options.thumb >= 0) || !std::isfinite(options.thumb)) {
        throw Error("grid: thumbnail size must be >= 0");
    }
    if (!options.column_labels.empty() && options.column_labels.size() != heads)
        throw Error("grid: " + std::to_string(options.column_labels.size()) +
                    " column labels for " + std::to_string(heads) + " columns");
    if (!options.cell_labels.empty() && options.cell_labels.size() != layers * heads)
        throw Error("grid: " + std::to_string(options.cell_labels.size()) +
                    " thumbnail labels for " + std::to_string(layers * heads) + " thumbnails");
    for (int m : options.outlined)
        if (m < 0 || size_t(m) >= layers * heads)
            throw Error("grid: outlined thumbnail " + std::to_string(m) + " outside 0.." +
                        std::to_string(layers * heads - 1));

    float lo = INFINITY, hi = -INFINITY;
    for (size_t m = 0; m < layers * heads; ++m) {
        for (int r = 0; r < seq; ++r) {
            const float* row = maps.data() + m * per_map + size_t(r) * size_t(seq);
            const int end = options.causal_mask ? std::min(seq, r + 1) : seq;
            for (int c = 0; c < end; ++c) {
                if (!std::isfinite(row[c])) continue;
                lo = std::min(lo, row[c]);
                hi = std::max(hi, row[c]);
            }
        }
    }
    if (!(lo <= hi)) lo = hi = 0;
    std::string note;
    if (seq > kLongMapTokens)
        hi =
            clipped_top(maps, seq, seq, options.causal_mask, lo, hi, options.clip_percentile, note);
    ColorScale scale = make_scale(options.colormap, lo, hi, options.gamma);
    scale.note = std::move(note);

    const float target = options.thumb > 0
                             ? options.thumb
                             : std::clamp(1800.0f / float(std::max(layers, heads)), 48.0f, 160.0f);
    int k = 1, bins = seq;
    float px = 1;
    if (float(seq) <= target) {
        px = std::max(1.0f, std::floor(target / float(seq)));
    } else {
        k = int(std::ceil(float(seq) / target));
        bins = (seq + k - 1) / k;
    }
    const float thumb = float(bins) * px;

    std::vector<std::string> row_names, col_names;
    float row_w = 0;
    for (int id : layer_ids) {
        row_names.push_back(std::string("L").append(std::to_string(id)));
        row_w = std::max(row_w, font.text_width(row_names.back(), kLabelSize));
    }
    for (int id : head_ids) col_names.push_back(std::string("H").append(std::to_string(id)));
    if (!options.column_labels.empty()) col_names = options.column_labels;
    // Thumbnail labels take a strip under each row (0 without them: the plain layout).
    const float cell_label_h = options.cell_labels.empty() ? 0.0f : kCellLabelSize * 1.3f;
    const float row_pitch = thumb + kGap + cell_label_h;

    float y = kMargin;
    const float title_w = options.title.empty() ? 0 : font.text_width(options.title, 14, true);
    if (!options.title.empty()) y += 14 * 1.3f + 4;
    // Whole pixels: thumbnails of whole-pixel cells then hit the raster's exact-rect path.
    const float grid_y = std::ceil(y + kLabelSize * 1.3f + 2);
    const float grid_x = std::ceil(kMargin + row_w + 6);
    const float grid_w = float(heads) * thumb + float(heads - 1) * kGap;
    const float grid_h =
        float(layers) * thumb + float(layers - 1) * kGap + float(layers) * cell_label_h;
    const float bar_h = std::clamp(grid_h, colorbar_min_height(), 480.0f);

    Scene scene;
    scene.width = std::max(grid_x + grid_w + colorbar_width(font, scale), title_w + 2 * kMargin);
    scene.height = grid_y + std::max(grid_h, bar_h) + kMargin;

    // Pass 1: bin every map, find each thumbnail's most common colour and count the runs, so
    // the items can be reserved once (reallocating millions of items would dominate).
    const size_t per_thumb = size_t(bins) * size_t(bins), thumbs = layers * heads;
    std::vector<int16_t> index(thumbs * per_thumb);
    std::vector<int> modes(thumbs);
    std::vector<double> sum;
    std::vector<int> count;
    size_t total = 0;
    for (size_t m = 0; m < thumbs; ++m) {
        int16_t* idx = index.data() + m * per_thumb;
        bin_map(maps.data() + m * per_map, seq, k, bins, options.causal_mask, scale, idx, sum,
                count);
        std::array<int, kMaskedIndex + 1> histogram{};
        for (size_t i = 0; i < per_thumb; ++i) ++histogram[size_t(idx[i])];
        modes[m] = int(std::max_element(histogram.begin(), histogram.end()) - histogram.begin());
        for (int br = 0; br < bins; ++br) {
            const int16_t* row = idx + size_t(br) * size_t(bins);
            for (int c = 0; c < bins; ++c) {
                total += row[c] != modes[m] && (c == 0 || row[c] != row[c - 1]);
            }
        }
    }
    scene.items.reserve(thumbs + total + layers + heads + size_t(bar_h) + 64 +
                        options.outlined.size() + options.cell_labels.size());

    // Pass 2: one rectangle per thumbnail in its mode colour, then the other runs on top.
    auto color_of = [&](int i) { return i == kMaskedIndex ? kMaskedFill : scale.lut[size_t(i)]; };
    for (size_t l = 0; l < layers; ++l) {
        for (size_t h = 0; h < heads; ++h) {
            const size_t m = l * heads + h;
            const int16_t* idx = index.data() + m * per_thumb;
            const int mode = modes[m];
            const float ox = grid_x + float(h) * (thumb + kGap);
            const float oy = grid_y + float(l) * row_pitch;
            scene.items.emplace_back(RectItem{ox, oy, thumb, thumb, color_of(mode)});
            for (int br = 0; br < bins; ++br) {
                const int16_t* row = idx + size_t(br) * size_t(bins);
                for (int c = 0; c < bins;) {
                    int e = c + 1;
                    while (e < bins && row[e] == row[c]) ++e;
                    if (row[c] != mode) {
                        scene.items.emplace_back(RectItem{ox + float(c) * px, oy + float(br) * px,
                                                          float(e - c) * px, px, color_of(row[c])});
                    }
                    c = e;
                }
            }
        }
    }

    // Frames just outside their thumbnails, inside the gap between them.
    for (int m : options.outlined) {
        const float ox = grid_x + float(size_t(m) % heads) * (thumb + kGap);
        const float oy = grid_y + float(size_t(m) / heads) * row_pitch;
        scene.items.emplace_back(RectItem{ox - 1.75f, oy - 1.75f, thumb + 3.5f, thumb + 3.5f,
                                          Color{0, 0, 0, 0}, options.outline_color, 2});
    }
    for (size_t m = 0; m < options.cell_labels.size(); ++m) {
        const float ox = grid_x + float(m % heads) * (thumb + kGap);
        const float oy = grid_y + float(m / heads) * row_pitch;
        scene.items.emplace_back(TextItem{
            font.elide(options.cell_labels[m], kCellLabelSize, thumb + kGap), ox + 0.5f * thumb,
            oy + thumb + 1, kCellLabelSize, kDarkText, Anchor::Middle, Baseline::Top});
    }
    for (size_t l = 0; l < layers; ++l) {
        scene.items.emplace_back(TextItem{row_names[l], grid_x - 6,
                                          grid_y + float(l) * row_pitch + 0.5f * thumb, kLabelSize,
                                          kDarkText, Anchor::End, Baseline::Middle});
    }
    for (size_t h = 0; h < heads; ++h) {
        scene.items.emplace_back(
            TextItem{col_names[h], grid_x + float(h) * (thumb + kGap) + 0.5f * thumb, grid_y - 4,
                     kLabelSize, kDarkText, Anchor::Middle, Baseline::Bottom});
    }
    if (!options.title.empty()) {
        scene.items.emplace_back(TextItem{options.title, 0.5f * scene.width, kMargin, 14, kDarkText,
                                          Anchor::Middle, Baseline::Top, 0, true});
    }
    draw_colorbar(scene, font, scale, grid_x + grid_w, grid_y, bar_h);
    return scene;
}

}  // namespace headmap::viz
