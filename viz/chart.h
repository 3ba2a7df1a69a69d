// A plain x-y chart (axes with ticks, points, lines and a legend) for the analysis views: the PCA
// scatter of heads coloured by cluster, and modularity by layer (seed 004). Builds a Scene like
// every view, so PNG, SVG and PDF agree.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::viz {

// One marker. `group` picks the colour from the categorical palette (and the legend entry);
// `label` (optional) is drawn small beside the marker, e.g. "L3H7".
struct ChartPoint {
    double x = 0, y = 0;
    int group = 0;
    std::string label;
    bool emphasised = false;  // drawn larger with a dark outline (cluster medoids, say)
};

// A polyline through its points in order (e.g. the mean per layer), with markers at the points.
struct ChartLine {
    std::vector<double> xs, ys;
    int group = 0;
};

struct ChartOptions {
    std::string title, x_label, y_label;
    std::vector<std::string> group_names;  // legend, one per group; empty: no legend
    // With a legend and at least one emphasised point: one more legend entry naming what the
    // larger outlined marker means ("medoid"); empty: none.
    std::string emphasis_name;
    bool integer_x_ticks = false;     // ticks at whole numbers only (layers)
    float width = 640, height = 480;  // plot size in px at scale 1 (the page adds margins)
};

// The categorical palette (matplotlib's tab10, then repeating): colour of group g (g >= 0).
Color category_color(int group);

// "Nice" tick values covering [lo, hi]: every multiple of a step 1, 2 or 5 x 10^k that lies in
// the range, the step chosen so that about `target` (clamped to 1..1000) ticks result (never
// more than 2 * target + 1). integer_only: the step is a whole number (>= 1). lo == hi gives that
// one value; a width beyond double's range gives {lo, hi}; lo > hi or non-finite bounds are
// headmap::Error.
std::vector<double> nice_ticks(double lo, double hi, int target = 6, bool integer_only = false);

// Where the chart put things, for callers and tests: the plot box in scene coordinates and the
// data range it spans (a data point (x, y) is drawn at to_x(x), to_y(y)).
struct ChartLayout {
    float plot_x = 0, plot_y = 0, plot_w = 0, plot_h = 0;
    double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
    std::vector<double> x_ticks, y_ticks;
    size_t hidden_labels = 0;  // point labels left out because every spot for them was taken
    float to_x(double x) const { return plot_x + float((x - x_min) / (x_max - x_min)) * plot_w; }
    float to_y(double y) const {
        return plot_y + plot_h - float((y - y_min) / (y_max - y_min)) * plot_h;
    }
};

// Axis limits come from the data (points and line vertices) with a 5% margin (a single value
// gets +-0.5; no data at all gives [0, 1]). Non-finite coordinates, lines whose xs and ys differ
// in length, negative groups and a non-positive plot size are headmap::Error.
// Point labels: each goes at the first spot around its marker that is inside the plot box and
// clear of every marker and earlier label (emphasised points first and always labelled, then the
// rest in order); a plain label with no clear spot is left out, counted in
// ChartLayout::hidden_labels and noted under the x axis.
// Drawing order: grid lines, frame, lines, plain markers, emphasised markers, point labels, ticks,
// axis labels, the note, title, legend.
Scene chart(const Font& font, std::span<const ChartPoint> points, std::span<const ChartLine> lines,
            const ChartOptions& options, ChartLayout* layout_out = nullptr);

}  // namespace headmap::viz
