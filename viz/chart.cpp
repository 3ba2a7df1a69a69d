// The x-y chart: a framed plot box with nice ticks and light grid lines, markers and polylines in
// the categorical palette, small point labels kept inside the box, and a legend on the right.
#include "viz/chart.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"

namespace headmap::viz {
namespace {

using detail::kDarkText;
using detail::kMargin;

constexpr float kTickSize = 10, kAxisLabelSize = 12, kTitleSize = 14, kLegendSize = 11;
constexpr float kPointLabelSize = 9;
constexpr float kMarker = 4, kEmphasisedMarker = 6.5f, kLineMarker = 3;
constexpr float kTickLength = 4, kGap = 6;
constexpr Color kGridLine{228, 228, 228, 255}, kFrame{110, 110, 110, 255};
constexpr Color kPointLabel{70, 70, 70, 255}, kEmphasisOutline{25, 25, 25, 255};

void check_finite(double v, const std::string& what) {
    if (!std::isfinite(v)) throw Error("chart: " + what + " is not a finite number");
}

// Decimals that show every multiple of `step` exactly (step = m x 10^e, m in {1, 2, 5}).
int tick_decimals(double step) {
    return std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
}

double tick_step(const std::vector<double>& ticks) {
    return ticks.size() >= 2 ? ticks[1] - ticks[0] : 1.0;
}

// The data range with a 5% margin on each side; one value: +-0.5; none: [0, 1].
void axis_range(double lo, double hi, double& out_lo, double& out_hi) {
    if (!(lo <= hi)) {
        out_lo = 0, out_hi = 1;
    } else if (lo == hi) {
        out_lo = lo - 0.5, out_hi = hi + 0.5;
    } else {
        out_lo = lo - 0.05 * (hi - lo), out_hi = hi + 0.05 * (hi - lo);
    }
}

std::string format_tick(double v, int decimals) {
    return detail::format_fixed(v, decimals);
}

// A label's box in scene coordinates.
struct Box {
    float x0, y0, x1, y1;
    bool overlaps(const Box& b) const { return x0 < b.x1 && b.x0 < x1 && y0 < b.y1 && b.y0 < y1; }
    bool inside(const Box& b) const { return x0 >= b.x0 && x1 <= b.x1 && y0 >= b.y0 && y1 <= b.y1; }
    bool touches_disc(float cx, float cy, float r) const {
        const float dx = cx - std::clamp(cx, x0, x1), dy = cy - std::clamp(cy, y0, y1);
        return dx * dx + dy * dy < r * r;
    }
};

// The point labels, each beside its marker at the first of six spots (right-above, right-below,
// left-above, left-below, above, below) that stays 2 px inside the plot box and clears every
// marker and every label placed before it. Emphasised points are placed first and always
// labelled: with no clear spot, the first inside the box that clears the other labels, else the
// first inside the box, else right-above. A plain label with no clear spot is left out (a crowd
// of overlapping labels reads as none), which the caller counts and reports.
std::vector<TextItem> place_point_labels(const Font& font, std::span<const ChartPoint> points,
                                         const ChartLayout& L) {
    const float h = font.ascent(kPointLabelSize) + font.descent(kPointLabelSize);
    const Box plot{L.plot_x + 2, L.plot_y + 2, L.plot_x + L.plot_w - 2, L.plot_y + L.plot_h - 2};
    auto radius = [](const ChartPoint& p) { return p.emphasised ? kEmphasisedMarker : kMarker; };
    std::vector<TextItem> labels;
    std::vector<Box> placed;
    for (bool emphasised : {true, false})
        for (size_t i = 0; i < points.size(); ++i) {
            const ChartPoint& p = points[i];
            if (p.label.empty() || p.emphasised != emphasised) continue;
            const float r = radius(p), cx = L.to_x(p.x), cy = L.to_y(p.y);
            std::string text = font.elide(p.label, kPointLabelSize, 0.5f * L.plot_w, emphasised);
            const float w = font.text_width(text, kPointLabelSize, emphasised);
            // (x, y, anchor, baseline) of each spot; the box follows from the anchor and baseline.
            struct Spot {
                float x, y;
                Anchor anchor;
                Baseline baseline;
            };
            const Spot spots[] = {
                {cx + r + 2, cy - r * 0.5f, Anchor::Start, Baseline::Bottom},
                {cx + r + 2, cy + r * 0.5f, Anchor::Start, Baseline::Top},
                {cx - r - 2, cy - r * 0.5f, Anchor::End, Baseline::Bottom},
                {cx - r - 2, cy + r * 0.5f, Anchor::End, Baseline::Top},
                {cx, cy - r - 1, Anchor::Middle, Baseline::Bottom},
                {cx, cy + r + 1, Anchor::Middle, Baseline::Top},
            };
            auto box_of = [&](const Spot& s) {
                const float x0 = s.anchor == Anchor::Start ? s.x
                                 : s.anchor == Anchor::End ? s.x - w
                                                           : s.x - 0.5f * w;
                const float y0 = s.baseline == Baseline::Top ? s.y : s.y - h;
                return Box{x0, y0, x0 + w, y0 + h};
            };
            auto clears_labels = [&](const Box& b) {
                return std::none_of(placed.begin(), placed.end(),
                                    [&](const Box& q) { return b.overlaps(q); });
            };
            auto clears_markers = [&](const Box& b) {
                for (size_t j = 0; j < points.size(); ++j)
                    if (j != i &&
                        b.touches_disc(L.to_x(points[j].x), L.to_y(points[j].y), radius(points[j])))
                        return false;
                return true;
            };
            auto first_spot = [&](auto&& acceptable) -> const Spot* {
                for (const Spot& s : spots)
                    if (acceptable(box_of(s))) return &s;
                return nullptr;
            };
            const Spot* chosen = first_spot([&](const Box& b) {
                return b.inside(plot) && clears_labels(b) && clears_markers(b);
            });
            if (!chosen && emphasised) {
                chosen =
                    first_spot([&](const Box& b) { return b.inside(plot) && clears_labels(b); });
                if (!chosen) chosen = first_spot([&](const Box& b) { return b.inside(plot); });
                if (!chosen) chosen = &spots[0];
            }
            if (!chosen) continue;
            placed.push_back(box_of(*chosen));
            labels.push_back(TextItem{std::move(text), chosen->x, chosen->y, kPointLabelSize,
                                      kPointLabel, chosen->anchor, chosen->baseline, 0,
                                      emphasised});
        }
    return labels;
}

}  // namespace

Color category_color(int group) {
    static constexpr Color kTab10[] = {
        {31, 119, 180, 255},  {255, 127, 14, 255}, {44, 160, 44, 255},   {214, 39, 40, 255},
        {148, 103, 189, 255}, {140, 86, 75, 255},  {227, 119, 194, 255}, {127, 127, 127, 255},
        {188, 189, 34, 255},  {23, 190, 207, 255}};
    if (group < 0) throw Error("chart: group " + std::to_string(group) + " (expected >= 0)");
    return kTab10[size_t(group) % 10];
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer_only) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
        throw Error("ticks: the range must be finite with low <= high");
    if (lo == hi) return {lo};
    target = std::clamp(target, 1, 1000);
    const double raw = (hi - lo) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
    if (integer_only) step = std::max(1.0, std::round(step));
    if (!std::isfinite(step) || !(step > 0)) return {lo, hi};  // a width beyond double's range
    // Multiples of the step: k * step, not a running sum, so no error accumulates. Counted, not
    // stepped through k: where lo / step passes 2^53 (a range of a few ulps), ++k stands still.
    const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
    std::vector<double> ticks;
    if (!(last >= first)) return ticks;
    const int count = int(std::min(last - first, double(2 * target))) + 1;
    for (int i = 0; i < count; ++i) {
        const double v = (first + i) * step;
        ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    }
    return ticks;
}

Scene chart(const Font& font, std::span<const ChartPoint> points, std::span<const ChartLine> lines,
            const ChartOptions& options, ChartLayout* layout_out) {
    if (!(options.width > 0 && options.height > 0) || !std::isfinite(options.width) ||
        !std::isfinite(options.height))
        throw Error("chart: the plot size must be positive");
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    auto extend = [&](double x, double y) {
        x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
        y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    };
    for (size_t i = 0; i < points.size(); ++i) {
        const std::string what = "point " + std::to_string(i);
        check_finite(points[i].x, what + "'s x");
        check_finite(points[i].y, what + "'s y");
        category_color(points[i].group);
        extend(points[i].x, points[i].y);
    }
    for (size_t l = 0; l < lines.size(); ++l) {
        const ChartLine& line = lines[l];
        const std::string what = "line " + std::to_string(l);
        if (line.xs.size() != line.ys.size())
            throw Error("chart: " + what + " has " + std::to_string(line.xs.size()) + " x and " +
                        std::to_string(line.ys.size()) + " y values (expected as many)");
        category_color(line.group);
        for (size_t k = 0; k < line.xs.size(); ++k) {
            check_finite(line.xs[k], what + "'s x");
            check_finite(line.ys[k], what + "'s y");
            extend(line.xs[k], line.ys[k]);
        }
    }

    ChartLayout L;
    axis_range(x_lo, x_hi, L.x_min, L.x_max);
    axis_range(y_lo, y_hi, L.y_min, L.y_max);
    L.x_ticks = nice_ticks(L.x_min, L.x_max, 7, options.integer_x_ticks);
    L.y_ticks = nice_ticks(L.y_min, L.y_max, 6);
    const int x_decimals = tick_decimals(tick_step(L.x_ticks));
    const int y_decimals = tick_decimals(tick_step(L.y_ticks));

    std::vector<std::string> y_tick_text;
    float y_tick_w = 0;
    for (double v : L.y_ticks) {
        y_tick_text.push_back(format_tick(v, y_decimals));
        y_tick_w = std::max(y_tick_w, font.text_width(y_tick_text.back(), kTickSize));
    }
    const float line_h = 1.3f;
    const bool has_title = !options.title.empty();
    const bool has_y_label = !options.y_label.empty(), has_x_label = !options.x_label.empty();

    // Legend entries: the groups, then what emphasis means (when some point is emphasised).
    std::vector<std::string> legend = options.group_names;
    const bool any_emphasised =
        std::any_of(points.begin(), points.end(), [](const ChartPoint& p) { return p.emphasised; });
    const bool emphasis_entry = !legend.empty() && any_emphasised && !options.emphasis_name.empty();
    if (emphasis_entry) legend.push_back(options.emphasis_name);
    float legend_w = 0;
    for (const std::string& name : legend)
        legend_w = std::max(legend_w, font.text_width(name, kLegendSize));
    if (!legend.empty()) legend_w += 2 * kGap + 2 * kEmphasisedMarker + 3 * kGap;

    L.plot_x = kMargin + (has_y_label ? kAxisLabelSize * line_h + kGap : 0) + y_tick_w +
               kTickLength + kGap;
    L.plot_y = kMargin + (has_title ? kTitleSize * line_h + kGap : 0) + kTickSize * 0.5f;
    L.plot_w = options.width;
    L.plot_h = options.height;
    const float x_ticks_bottom = L.plot_y + L.plot_h + kTickLength + 2 + kTickSize * line_h;
    const float x_label_bottom =
        x_ticks_bottom + (has_x_label ? kGap + kAxisLabelSize * line_h : 0);
    std::vector<TextItem> point_labels = place_point_labels(font, points, L);
    L.hidden_labels = 0;
    for (const ChartPoint& p : points) L.hidden_labels += !p.label.empty();
    L.hidden_labels -= point_labels.size();
    // A note under the axis label says how many labels were left out, so no reader takes an
    // unlabelled marker for an unnamed one.
    const std::string hidden_note =
        L.hidden_labels == 0 ? std::string()
                             : std::to_string(L.hidden_labels) + " of " +
                                   std::to_string(L.hidden_labels + point_labels.size()) +
                                   " point labels left out where they would overlap";
    const float bottom = x_label_bottom + (hidden_note.empty() ? 0 : kGap + kTickSize * line_h);

    Scene scene;
    float last_x_tick_half = 0;
    if (!L.x_ticks.empty())
        last_x_tick_half =
            0.5f * font.text_width(format_tick(L.x_ticks.back(), x_decimals), kTickSize);
    const float title_w = has_title ? font.text_width(options.title, kTitleSize, true) : 0;
    scene.width = std::max({L.plot_x + L.plot_w + std::max(legend_w, last_x_tick_half) + kMargin,
                            title_w + 2 * kMargin});
    const float legend_h = float(legend.size()) * kLegendSize * 1.6f + 2 * kGap;
    scene.height = std::max(bottom + kMargin, L.plot_y + legend_h + kMargin);
    scene.items.reserve(points.size() * 2 + lines.size() * 16 + L.x_ticks.size() * 3 +
                        L.y_ticks.size() * 3 + legend.size() * 2 + 16);

    const float px0 = L.plot_x, px1 = L.plot_x + L.plot_w;
    const float py0 = L.plot_y, py1 = L.plot_y + L.plot_h;
    for (double v : L.x_ticks) {
        const float x = L.to_x(v);
        scene.add(PolylineItem{{{x, py0}, {x, py1}}, kGridLine, 1});
    }
    for (double v : L.y_ticks) {
        const float y = L.to_y(v);
        scene.add(PolylineItem{{{px0, y}, {px1, y}}, kGridLine, 1});
    }
    scene.add(RectItem{px0, py0, L.plot_w, L.plot_h, Color{0, 0, 0, 0}, kFrame, 1});

    for (const ChartLine& line : lines) {
        PolylineItem poly{{}, category_color(line.group), 1.8f};
        for (size_t k = 0; k < line.xs.size(); ++k)
            poly.points.push_back({L.to_x(line.xs[k]), L.to_y(line.ys[k])});
        const std::vector<Point> vertices = poly.points;
        if (vertices.size() >= 2) scene.add(std::move(poly));
        for (const Point& p : vertices)
            scene.add(CircleItem{p.x, p.y, kLineMarker, category_color(line.group)});
    }
    // Plain markers first, so emphasised ones stay visible on top of a crowd.
    for (bool emphasised : {false, true})
        for (const ChartPoint& p : points) {
            if (p.emphasised != emphasised) continue;
            const Color fill = category_color(p.group);
            if (emphasised)
                scene.add(CircleItem{L.to_x(p.x), L.to_y(p.y), kEmphasisedMarker, fill,
                                     kEmphasisOutline, 1.5f});
            else
                scene.add(CircleItem{L.to_x(p.x), L.to_y(p.y), kMarker, fill,
                                     Color{255, 255, 255, 255}, 0.75f});
        }
    for (TextItem& label : point_labels) scene.add(std::move(label));
    for (double v : L.x_ticks) {
        const float x = L.to_x(v);
        scene.add(RectItem{x - 0.5f, py1, 1, kTickLength, kFrame});
        scene.add(TextItem{format_tick(v, x_decimals), x, py1 + kTickLength + 2, kTickSize,
                           kDarkText, Anchor::Middle, Baseline::Top});
    }
    for (size_t k = 0; k < L.y_ticks.size(); ++k) {
        const float y = L.to_y(L.y_ticks[k]);
        scene.add(RectItem{px0 - kTickLength, y - 0.5f, kTickLength, 1, kFrame});
        scene.add(TextItem{y_tick_text[k], px0 - kTickLength - 2, y, kTickSize, kDarkText,
                           Anchor::End, Baseline::Middle});
    }
    if (has_x_label)
        scene.add(TextItem{options.x_label, 0.5f * (px0 + px1), x_ticks_bottom + kGap,
                           kAxisLabelSize, kDarkText, Anchor::Middle, Baseline::Top});
    if (has_y_label)
        scene.add(TextItem{options.y_label, kMargin, 0.5f * (py0 + py1), kAxisLabelSize, kDarkText,
                           Anchor::Middle, Baseline::Top, -90});
    if (!hidden_note.empty())
        scene.add(TextItem{font.elide(hidden_note, kTickSize, L.plot_w), px1, x_label_bottom + kGap,
                           kTickSize, kPointLabel, Anchor::End, Baseline::Top});
    if (has_title)
        scene.add(TextItem{options.title, 0.5f * scene.width, kMargin, kTitleSize, kDarkText,
                           Anchor::Middle, Baseline::Top, 0, true});

    if (!legend.empty()) {
        const float lx = px1 + 2 * kGap;
        scene.add(RectItem{lx, py0, legend_w - kGap, legend_h, Color{255, 255, 255, 255},
                           Color{200, 200, 200, 255}, 1});
        for (size_t g = 0; g < legend.size(); ++g) {
            const float cy = py0 + kGap + (float(g) + 0.5f) * kLegendSize * 1.6f;
            const float cx = lx + kGap + kEmphasisedMarker;
            if (emphasis_entry && g + 1 == legend.size())
                scene.add(CircleItem{cx, cy, kEmphasisedMarker, Color{255, 255, 255, 255},
                                     kEmphasisOutline, 1.5f});
            else
                scene.add(CircleItem{cx, cy, kMarker + 1, category_color(int(g))});
            scene.add(TextItem{legend[g], cx + kEmphasisedMarker + kGap, cy, kLegendSize, kDarkText,
                               Anchor::Start, Baseline::Middle});
        }
    }
    if (layout_out) *layout_out = std::move(L);
    return scene;
}

}  // namespace headmap::viz
