// The x-y chart: a framed plot box with nice ticks and light grid lines, markers and polylines in
// the categorical palette, small point labels kept inside the box, and a legend on the right.
#include "viz/chart.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/error.h"
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
    const float bottom = x_ticks_bottom + (has_x_label ? kGap + kAxisLabelSize * line_h : 0);

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
    // Labels beside their markers, flipped to the other side where they would leave the box.
    for (const ChartPoint& p : points) {
        if (p.label.empty()) continue;
        const float r = p.emphasised ? kEmphasisedMarker : kMarker;
        const float cx = L.to_x(p.x), cy = L.to_y(p.y);
        const std::string text =
            font.elide(p.label, kPointLabelSize, 0.5f * L.plot_w, p.emphasised);
        const float w = font.text_width(text, kPointLabelSize, p.emphasised);
        const bool right = cx + r + 2 + w <= px1 - 2;
        const bool above = cy - r - kPointLabelSize * line_h >= py0 + 2;
        scene.add(TextItem{text, right ? cx + r + 2 : cx - r - 2,
                           above ? cy - r * 0.5f : cy + r * 0.5f, kPointLabelSize, kPointLabel,
                           right ? Anchor::Start : Anchor::End,
                           above ? Baseline::Bottom : Baseline::Top, 0, p.emphasised});
    }

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
