// The views: each turns attention maps (plus token labels) into a Scene. Pure functions of their
// inputs: no files, no model. ../shared/notes/views-and-metrics.md says what each computes;
// the comments here say what headmap chose where the seed tools are vague or wrong.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::viz {

// A row-major rows x cols map (rows = attending/query tokens, cols = attended/key tokens).
struct MapView {
    std::span<const float> values;
    int rows = 0, cols = 0;
    float at(int r, int c) const { return values[size_t(r) * size_t(cols) + size_t(c)]; }
};

// Inclusive cell rectangle: rows r0..r1, columns c0..c1.
struct CellRegion {
    int r0 = 0, c0 = 0, r1 = 0, c1 = 0;
};

// Token labels as shown: GPT-2/RoBERTa's 'Ġ' (a leading space) becomes a visible mark '␣',
// 'Ċ' (newline) '↵', other byte stand-ins their escapes; WordPiece '##' stays.
std::string display_token(std::string_view token);
// [CLS], [SEP], [PAD], <s>, </s>, <pad>, <|endoftext|>: drawn bold.
bool is_special_token(std::string_view token);

// Past this many tokens a map is "long": sparse labels, and a colour scale clipped at
// kLongMapClipPercentile unless a top is given (heatmap's length_threshold defaults to it).
inline constexpr int kLongMapTokens = 64;
inline constexpr float kLongMapClipPercentile = 99.5f;

struct HeatmapOptions {
    std::string colormap = "viridis";  // viridis, magma, Blues, Purples, Greys, RdBu (diverging)
    float gamma = 1.5f;                // power norm t = ((v - vmin) / (vmax - vmin))^gamma
    std::optional<float> vmin, vmax;   // default: the map's min and max (see clip_percentile)
    // Long maps (past length_threshold) without a vmax: the scale tops out at this percentile of
    // the cells, said on the colour bar, so that a first-token sink column does not turn the rest
    // into one dark colour (0 or 100: the maximum).
    float clip_percentile = kLongMapClipPercentile;
    std::string title;
    std::string x_label = "Attended tokens (keys)";
    std::string y_label = "Attending tokens (queries)";
    int top = 0;                 // top-n cells: enlarged rows/columns, values, highlighted labels
    float enlarged_size = 1.8f;  // width of an enlarged row/column, in cells
    std::vector<CellRegion> regions;  // outlined rectangles
    bool causal_mask = false;         // draw the upper triangle as masked (hatched grey)
    int length_threshold =
        kLongMapTokens;      // more tokens than this: sparse labels, no value annotations
    int label_interval = 0;  // long inputs: label every n-th token (0: as many as fit legibly)
    float cell = 0;          // cell size in px (0: chosen from the token count)
    bool colorbar = true;
    // >= 0: question-context mode for a sentence pair; the first `split` tokens are segment A
    // (token type 0, [CLS] and the first [SEP] included). Draws 5 panels with one colour scale:
    // A->A, B->B, A rows x B columns (A attends to B), B rows x A columns, and the whole map.
    int question_split = -1;
};
Scene heatmap(const Font& font, const MapView& map, std::span<const std::string> row_tokens,
              std::span<const std::string> col_tokens, const HeatmapOptions& options);

// All layers x heads thumbnails with one shared colour scale, labelled "L<l>" / "H<h>".
// maps: (layers, heads, S, S) row-major.
struct GridOptions {
    std::string colormap = "viridis";
    float gamma = 1.5f;
    float thumb = 0;  // thumbnail size px (0: automatic)
    std::string title;
    bool causal_mask = false;
    float clip_percentile = kLongMapClipPercentile;  // past kLongMapTokens, as in heatmap
    // Head ranking (grid --rank). The maps are drawn in the order given (a caller that sorts a
    // layer's heads passes them sorted); these only annotate. All empty: the plain grid.
    std::vector<std::string> column_labels;  // (heads) in place of "H<h>", e.g. "#1".."#n"
    std::vector<std::string> cell_labels;    // (layers * heads) layer-major, under each thumbnail
    std::vector<int> outlined;               // thumbnails (layer-major index) framed
    Color outline_color{214, 39, 40, 255};
};
Scene grid(const Font& font, std::span<const float> maps, std::span<const int> layer_ids,
           std::span<const int> head_ids, int seq, const GridOptions& options);

// IzzyViz comparison: background = first map (power norm over both maps' range); in each cell a
// circle coloured by the second map, radius min(scale * 0.45 * |b - a| / max|b - a|, 0.5) cells.
// signed_colors: circles in two fixed colours for b > a and b < a instead.
struct CompareOptions {
    std::string colormap = "viridis";
    float gamma = 1.5f;
    float scale = 1.0f;
    bool signed_colors = false;
    bool causal_mask = false;  // the upper triangle masked (hatched, no circles), as in heatmap
    std::string title, first_name = "A", second_name = "B";
    std::string x_label = "Attended tokens (keys)";
    std::string y_label = "Attending tokens (queries)";
};
Scene compare(const Font& font, const MapView& first, const MapView& second,
              std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
              const CompareOptions& options);
// Signed difference b - a as a heatmap with a diverging colormap centred on 0.
Scene difference(const Font& font, const MapView& first, const MapView& second,
                 std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                 const CompareOptions& options);

// Stability over n runs: background = mean; circles radius 0.45 * err / max(err) with a radial
// gradient from colour(mean - contrast*err) to colour(mean + contrast*err); err = std/sqrt(n)
// (standard error) or std.
struct StabilityOptions {
    std::string colormap = "viridis";
    float gamma = 1.5f;
    bool use_std = false;
    float contrast = 2.0f;
    bool from_white = false;
    bool causal_mask = false;  // the upper triangle masked (hatched, no circles), as in heatmap
    std::string title;
    std::string x_label = "Attended tokens (keys)";
    std::string y_label = "Attending tokens (queries)";
};
Scene stability(const Font& font, std::span<const MapView> runs,
                std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                const StabilityOptions& options);

// Evolution over T steps: background = mean over steps; a sparkline per cell (80% of the width,
// 70% of the height), values min-max normalised over all cells and steps (or per cell).
struct EvolutionOptions {
    std::string colormap = "viridis";
    float gamma = 1.5f;
    bool per_cell = false;
    bool causal_mask = false;  // the upper triangle masked (hatched, no sparklines), as in heatmap
    std::string title;
    std::string x_label = "Attended tokens (keys)";
    std::string y_label = "Attending tokens (queries)";
};
Scene evolution(const Font& font, std::span<const MapView> steps,
                std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
                const EvolutionOptions& options);

// Automatic key-region detection (IzzyViz's find_attention_regions_with_merging, with the
// behaviour choices documented in regions.cpp). Sorted by mean value, descending.
struct RegionOptions {
    int n_seeds = 5;
    int min_distance = 2;
    float expansion_threshold = 0.9f;
    int proximity_threshold = 2;
    float merge_threshold = 0.6f;
    int max_rounds = 20;
    // Search without the sink columns (those taking >= max(0.2, 4 / S) of the rows' attention
    // on average: [CLS], [SEP], GPT-2's first token); the regions' means are still the map's
    // own. Off: IzzyViz's search on the raw map.
    bool skip_sinks = true;
};
struct FoundRegion {
    CellRegion cells;
    float mean = 0, score = 0;
};
std::vector<FoundRegion> find_regions(const MapView& map, const RegionOptions& options);
// The heatmap with the regions drawn as boxes labelled R1..Rn.
Scene regions(const Font& font, const MapView& map, std::span<const FoundRegion> found,
              std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
              const HeatmapOptions& options);

// The pieces of the table-lens heatmap that tests and other tools can check on their own.
// Power norm: ((v - vmin) / (vmax - vmin))^gamma clipped to [0, 1]; 0 when vmax <= vmin or v is
// not finite.
float power_norm(float v, float vmin, float vmax, float gamma);
// Top-n cells as row-major indices: threshold = the n-th largest value, every cell >= it is taken
// (ties can give more than n); sorted by value descending, then index. Non-finite values and,
// with causal_mask, the upper triangle (column > row) never count.
std::vector<int> top_cells(const MapView& map, int n, bool causal_mask = false);
// The five question-context panels for a seq x seq map split after `split` tokens (1..seq-1):
// titles and blocks, in drawing order.
struct QuestionContextPanel {
    std::string title;
    int row0 = 0, rows = 0, col0 = 0, cols = 0;
};
std::vector<QuestionContextPanel> question_context_panels(int seq, int split);

// Colormaps by name; headmap::Error for an unknown name (listing the known ones). A "_r" suffix
// reverses a map (e.g. "RdBu_r"), as in matplotlib.
struct Colormap {
    std::string name;
    Color operator()(float t) const;  // t in [0, 1], clamped
    std::vector<Color> table;         // 256 entries
};
Colormap colormap(std::string_view name);
std::vector<std::string> colormap_names();

}  // namespace headmap::viz
