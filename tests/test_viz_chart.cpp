// viz/chart.h: nice ticks, the chart's scene (markers where the data maps, ticks, legend, point
// labels, lines), bad input, and the three formats written and drawn.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "test_support.h"
#include "tools/viz_io.h"
#include "viz/chart.h"
#include "viz/render.h"
#include "viz_test_support.h"

using namespace headmap;
using namespace headmap::viz;
using namespace viz_test;

namespace {

// A circle centred at (x, y) (to a hundredth of a pixel) with radius r, or nullptr.
const CircleItem* find_circle(const Scene& scene, float x, float y, float r) {
    for (const CircleItem* c : items_of<CircleItem>(scene))
        if (std::fabs(c->cx - x) < 0.01f && std::fabs(c->cy - y) < 0.01f &&
            std::fabs(c->r - r) < 0.01f)
            return c;
    return nullptr;
}

ChartPoint point(double x, double y, int group = 0) {
    ChartPoint p;
    p.x = x, p.y = y, p.group = group;
    return p;
}

// step = m x 10^e with m in {1, 2, 5}
bool is_nice_step(double step) {
    const double e = std::floor(std::log10(step) + 1e-9);
    const double m = step / std::pow(10.0, e);
    return std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9;
}

}  // namespace

TEST_CASE("nice ticks: 1-2-5 steps covering the range") {
    const std::vector<double> unit = nice_ticks(0, 1, 6);
    REQUIRE(unit.size() == 6);
    for (size_t i = 0; i < unit.size(); ++i)
        CHECK(unit[i] == doctest::Approx(0.2 * double(i)).epsilon(1e-12));
    CHECK(nice_ticks(-0.35, 5.35, 7, true) == std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK(nice_ticks(0, 2.2, 7, true) == std::vector<double>{0, 1, 2});  // 0.5 would be finer
    CHECK(nice_ticks(0, 1000, 6) == std::vector<double>{0, 200, 400, 600, 800, 1000});
    CHECK(nice_ticks(-3, 3, 6) == std::vector<double>{-3, -2, -1, 0, 1, 2, 3});
    CHECK(nice_ticks(2.5, 2.5) == std::vector<double>{2.5});
    // A range of one ulp: terminates, few ticks (1 / step is past 2^53 there).
    CHECK(nice_ticks(1, std::nextafter(1.0, 2.0), 7).size() <= 15);
    const std::vector<double> huge = nice_ticks(-1e308, 1e308);  // the width overflows
    CHECK(huge.size() <= 13);
    for (double v : huge) CHECK(std::isfinite(v));
    CHECK_THROWS_AS(nice_ticks(1, 0), Error);
    CHECK_THROWS_AS(nice_ticks(0, NAN), Error);
    CHECK_THROWS_AS(nice_ticks(-INFINITY, 0), Error);

    std::mt19937 rng(5);
    std::uniform_real_distribution<double> exponent(-6, 6), unit_draw(-1, 1);
    for (int trial = 0; trial < 500; ++trial) {
        const double scale = std::pow(10.0, exponent(rng));
        double lo = unit_draw(rng) * scale, hi = unit_draw(rng) * scale;
        if (lo > hi) std::swap(lo, hi);
        if (lo == hi) continue;
        const int target = 3 + trial % 6;
        CAPTURE(lo);
        CAPTURE(hi);
        CAPTURE(target);
        const std::vector<double> t = nice_ticks(lo, hi, target);
        REQUIRE(t.size() >= 2);
        CHECK(t.size() <= size_t(2 * target + 1));
        const double step = t[1] - t[0];
        CHECK(is_nice_step(step));
        for (size_t i = 0; i < t.size(); ++i) {
            CHECK(t[i] >= lo - 1e-9 * step);
            CHECK(t[i] <= hi + 1e-9 * step);
            CHECK(std::fabs(t[i] / step - std::round(t[i] / step)) < 1e-6);  // multiples
            if (i > 0) CHECK(std::fabs(t[i] - t[i - 1] - step) < 1e-9 * step);
        }
        CHECK(t.front() - step < lo);  // nothing left out at either end
        CHECK(t.back() + step > hi);
    }
}

TEST_CASE("category colours are matplotlib's tab10, repeating") {
    CHECK(category_color(0) == Color{31, 119, 180, 255});
    CHECK(category_color(3) == Color{214, 39, 40, 255});
    CHECK(category_color(9) == Color{23, 190, 207, 255});
    CHECK(category_color(10) == category_color(0));
    CHECK_THROWS_AS(category_color(-1), Error);
}

TEST_CASE("chart: markers where the data maps, ticks, labels, legend") {
    std::vector<ChartPoint> points = {
        {0, 0, 0, "L0H0", false}, {10, 5, 1, "L0H1", true}, {4, -5, 1, "L1H0", false}};
    ChartOptions o;
    o.title = "Heads";
    o.x_label = "PC1 (60.0%)";
    o.y_label = "PC2 (30.0%)";
    o.group_names = {"cluster 1", "cluster 2"};
    o.emphasis_name = "medoid";
    ChartLayout L;
    const Scene scene = chart(font(), points, {}, o, &L);

    // Limits: data +- 5%; the plot box is the requested size.
    CHECK(L.x_min == doctest::Approx(-0.5));
    CHECK(L.x_max == doctest::Approx(10.5));
    CHECK(L.y_min == doctest::Approx(-5.5));
    CHECK(L.y_max == doctest::Approx(5.5));
    CHECK(L.plot_w == 640);
    CHECK(L.plot_h == 480);
    CHECK(L.x_ticks == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(L.y_ticks == std::vector<double>{-4, -2, 0, 2, 4});
    // The mapping by hand: x = 0 sits 0.5 / 11 of the way across, y = 5 0.5 / 11 from the top.
    CHECK(L.to_x(0) == doctest::Approx(L.plot_x + 640.0 * 0.5 / 11));
    CHECK(L.to_y(5) == doctest::Approx(L.plot_y + 480.0 * 0.5 / 11));

    const CircleItem* plain = find_circle(scene, L.to_x(0), L.to_y(0), 4);
    REQUIRE(plain != nullptr);
    CHECK(plain->fill == category_color(0));
    const CircleItem* medoid = find_circle(scene, L.to_x(10), L.to_y(5), 6.5f);
    REQUIRE(medoid != nullptr);
    CHECK(medoid->fill == category_color(1));
    CHECK(medoid->stroke_width > 0);
    REQUIRE(find_circle(scene, L.to_x(4), L.to_y(-5), 4) != nullptr);
    // The emphasised marker is drawn after the plain ones (on top).
    const auto circles = items_of<CircleItem>(scene);
    CHECK(std::find(circles.begin(), circles.end(), medoid) >
          std::find(circles.begin(), circles.end(), plain));

    for (const char* text : {"0", "2", "10", "-4", "4", "L0H0", "L0H1", "L1H0", "Heads",
                             "PC1 (60.0%)", "PC2 (30.0%)", "cluster 1", "cluster 2", "medoid"}) {
        INFO(text);
        CHECK(find_text(scene, text) != nullptr);
    }
    // Tick labels sit under/beside their ticks.
    CHECK(find_text(scene, "10")->x == doctest::Approx(L.to_x(10)));
    CHECK(find_text(scene, "-4")->y == doctest::Approx(L.to_y(-4)));
    CHECK(find_text(scene, "PC2 (30.0%)")->rotation_deg == -90);
    // Point labels beside their markers, inside the plot box.
    const TextItem* label = find_text(scene, "L0H1");
    CHECK(std::fabs(label->x - L.to_x(10)) < 12);
    CHECK(label->anchor == Anchor::End);  // no room to the right of the rightmost point
    CHECK(label->x <= L.plot_x + L.plot_w);
    // Legend markers in the group colours, right of the plot.
    const TextItem* entry = find_text(scene, "cluster 2");
    CHECK(entry->x > L.plot_x + L.plot_w);
    bool legend_marker = false;
    for (const CircleItem* c : circles)
        legend_marker |= c->fill == category_color(1) && std::fabs(c->cy - entry->y) < 0.01f &&
                         c->cx < entry->x && c->cx > L.plot_x + L.plot_w;
    CHECK(legend_marker);
    check_inside(scene);

    // No legend without group names; no emphasis entry without emphasised points.
    o.group_names.clear();
    CHECK(find_text(chart(font(), points, {}, o), "medoid") == nullptr);
    o.group_names = {"a", "b"};
    points[1].emphasised = false;
    CHECK(find_text(chart(font(), points, {}, o), "medoid") == nullptr);
}

TEST_CASE("chart: point labels never overlap; crowded plain labels are left out and counted") {
    // A crowd of 40 labelled points around the origin (one of them emphasised), one unlabelled
    // point in it, and four lone points at the corners.
    std::vector<ChartPoint> points;
    for (int i = 0; i < 40; ++i) {
        ChartPoint p = point(0.02 * (i % 8), 0.03 * (i / 8), i % 3);
        p.emphasised = i == 17;
        p.label = p.emphasised ? "MEDOID" : "P";
        if (!p.emphasised)
            p.label += std::to_string(i);  // (not "P" + ...: a g++ 12 false -Wrestrict)
        points.push_back(p);
    }
    points.push_back(point(0.05, 0.05));
    for (double x : {-10.0, 10.0})
        for (double y : {-10.0, 10.0}) {
            ChartPoint p = point(x, y, 1);
            p.label = "far" + std::to_string(int(x)) + "," + std::to_string(int(y));
            points.push_back(p);
        }
    ChartLayout L;
    const Scene scene = chart(font(), points, {}, ChartOptions{}, &L);

    // The boxes of the drawn point labels (every text that names a point).
    struct Box {
        float x0, y0, x1, y1;
    };
    std::vector<Box> boxes;
    size_t drawn = 0;
    for (const TextItem* t : items_of<TextItem>(scene)) {
        const bool names_point =
            t->utf8.rfind("P", 0) == 0 || t->utf8.rfind("far", 0) == 0 || t->utf8 == "MEDOID";
        if (!names_point) continue;
        ++drawn;
        const float w = font().text_width(t->utf8, t->size, t->bold);
        const float h = font().ascent(t->size) + font().descent(t->size);
        const float x0 = t->anchor == Anchor::Start ? t->x
                         : t->anchor == Anchor::End ? t->x - w
                                                    : t->x - 0.5f * w;
        REQUIRE((t->baseline == Baseline::Top || t->baseline == Baseline::Bottom));
        const float y0 = t->baseline == Baseline::Top ? t->y : t->y - h;
        boxes.push_back({x0, y0, x0 + w, y0 + h});
        CHECK(x0 >= L.plot_x);
        CHECK(x0 + w <= L.plot_x + L.plot_w);
        CHECK(y0 >= L.plot_y);
        CHECK(y0 + h <= L.plot_y + L.plot_h);
    }
    for (size_t a = 0; a < boxes.size(); ++a)
        for (size_t b = a + 1; b < boxes.size(); ++b) {
            const Box &p = boxes[a], &q = boxes[b];
            INFO("labels ", a, " and ", b);
            CHECK_FALSE((p.x0 < q.x1 && q.x0 < p.x1 && p.y0 < q.y1 && q.y0 < p.y1));
        }
    // No label covers a marker (its own sits beside it, 1 or 2 px away).
    for (const Box& b : boxes)
        for (const ChartPoint& p : points) {
            const float cx = L.to_x(p.x), cy = L.to_y(p.y), r = p.emphasised ? 6.5f : 4;
            const float dx = cx - std::clamp(cx, b.x0, b.x1), dy = cy - std::clamp(cy, b.y0, b.y1);
            CHECK(dx * dx + dy * dy >= r * r);
        }
    // The crowd cannot hold 40 labels; the lone points and the emphasised one keep theirs.
    CHECK(L.hidden_labels > 10);
    CHECK(drawn + L.hidden_labels == 44);
    CHECK(drawn >= 6);
    for (const char* text : {"MEDOID", "far-10,-10", "far-10,10", "far10,-10", "far10,10", "P0"}) {
        INFO(text);
        CHECK(find_text(scene, text) != nullptr);
    }
    const std::string note =
        std::to_string(L.hidden_labels) + " of 44 point labels left out where they would overlap";
    const TextItem* shown_note = find_text(scene, note);
    REQUIRE(shown_note != nullptr);
    CHECK(shown_note->y > L.plot_y + L.plot_h);
    check_inside(scene);

    // A small chart leaves out more, and its note still fits on the page.
    ChartOptions small;
    small.width = 90, small.height = 70;
    ChartLayout small_layout;
    const Scene cramped = chart(font(), points, {}, small, &small_layout);
    CHECK(small_layout.hidden_labels > L.hidden_labels);
    check_inside(cramped);

    // With room for every label, none is left out and there is no note.
    ChartLayout sparse;
    const Scene roomy =
        chart(font(), std::span<const ChartPoint>(points).last(4), {}, ChartOptions{}, &sparse);
    CHECK(sparse.hidden_labels == 0);
    for (const TextItem* t : items_of<TextItem>(roomy))
        CHECK(t->utf8.find("left out") == std::string::npos);
}

TEST_CASE("chart: lines through their points, integer x ticks") {
    const std::vector<ChartLine> lines = {{{0, 1, 2, 3, 4, 5}, {0.1, 0.3, 0.2, 0.5, 0.4, 0.45}, 2},
                                          {{0, 5}, {0.25, 0.3}, 0}};
    ChartOptions o;
    o.integer_x_ticks = true;
    o.x_label = "layer";
    o.y_label = "modularity";
    o.group_names = {"a", "b", "c"};
    ChartLayout L;
    const Scene scene = chart(font(), {}, lines, o, &L);
    CHECK(L.x_ticks == std::vector<double>{0, 1, 2, 3, 4, 5});
    const auto polys = items_of<PolylineItem>(scene);
    const PolylineItem* first = nullptr;
    for (const PolylineItem* p : polys)
        if (p->points.size() == 6) first = p;
    REQUIRE(first != nullptr);
    CHECK(first->stroke == category_color(2));
    for (size_t k = 0; k < 6; ++k) {
        CHECK(first->points[k].x == doctest::Approx(L.to_x(lines[0].xs[k])));
        CHECK(first->points[k].y == doctest::Approx(L.to_y(lines[0].ys[k])));
        CHECK(find_circle(scene, L.to_x(lines[0].xs[k]), L.to_y(lines[0].ys[k]), 3) != nullptr);
    }
    CHECK(find_text(scene, "5") != nullptr);
    CHECK(find_text(scene, "0.5") != nullptr);  // y ticks 0.1 apart: one decimal
    check_inside(scene);

    // One point: +-0.5 around it.
    ChartLayout single;
    const ChartPoint one = point(3, 7);
    chart(font(), std::span(&one, 1), {}, ChartOptions{}, &single);
    CHECK(single.x_min == 2.5);
    CHECK(single.x_max == 3.5);
    CHECK(single.y_min == 6.5);
}

TEST_CASE("chart: bad input is an error") {
    const ChartOptions o;
    const std::vector<ChartPoint> nan_x = {point(NAN, 0)};
    CHECK_THROWS_WITH_AS(chart(font(), nan_x, {}, o), doctest::Contains("point 0's x"), Error);
    const std::vector<ChartPoint> inf_y = {point(0, 0), point(1, INFINITY)};
    CHECK_THROWS_WITH_AS(chart(font(), inf_y, {}, o), doctest::Contains("point 1's y"), Error);
    const std::vector<ChartLine> ragged = {{{0, 1}, {0}, 0}};
    CHECK_THROWS_AS(chart(font(), {}, ragged, o), Error);
    const std::vector<ChartLine> nan_line = {{{0, 1}, {0, NAN}, 0}};
    CHECK_THROWS_AS(chart(font(), {}, nan_line, o), Error);
    const std::vector<ChartPoint> negative = {point(0, 0, -2)};
    CHECK_THROWS_AS(chart(font(), negative, {}, o), Error);
    ChartOptions flat;
    flat.height = 0;
    CHECK_THROWS_AS(chart(font(), {}, {}, flat), Error);
}

TEST_CASE("chart: PNG, SVG and PDF all write; the PNG shows the markers") {
    std::vector<ChartPoint> points;
    for (int i = 0; i < 12; ++i) {
        ChartPoint p = point(double(i), std::sin(i), i % 3);
        p.label = "L";  // built piecewise: GCC 12 warns falsely on "L" + string
        p.label += std::to_string(i / 4) + "H" + std::to_string(i % 4);
        p.emphasised = i == 4;
        points.push_back(p);
    }
    ChartOptions o;
    o.title = "twelve heads";
    o.x_label = "x";
    o.y_label = "y";
    o.group_names = {"one", "two", "three"};
    o.emphasis_name = "medoid";
    ChartLayout L;
    const Scene scene = chart(font(), points, {}, o, &L);
    test_support::TempDir dir;
    for (const char* ext : {"png", "svg", "pdf"}) {
        const std::filesystem::path out = dir / (std::string("chart.") + ext);
        headmap::viz_io::write_scene(scene, font(), out);
        REQUIRE(std::filesystem::exists(out));
        const std::string bytes = test_support::read_file(out);
        INFO(ext);
        CHECK(bytes.size() > 1000);
        if (std::string(ext) == "png") CHECK(bytes.compare(1, 3, "PNG") == 0);
        if (std::string(ext) == "svg") CHECK(bytes.find("<svg") != std::string::npos);
        if (std::string(ext) == "pdf") CHECK(bytes.compare(0, 5, "%PDF-") == 0);
    }
    const Image image = rasterize(scene, font());
    for (int i : {0, 4, 7}) {  // plain, emphasised, plain: the marker centre has its colour
        const int x = int(L.to_x(points[size_t(i)].x)), y = int(L.to_y(points[size_t(i)].y));
        const uint8_t* px = &image.rgba[(size_t(y) * size_t(image.width) + size_t(x)) * 4];
        const Color want = category_color(points[size_t(i)].group);
        CAPTURE(i);
        CHECK(std::abs(int(px[0]) - int(want.r)) <= 40);
        CHECK(std::abs(int(px[1]) - int(want.g)) <= 40);
        CHECK(std::abs(int(px[2]) - int(want.b)) <= 40);
    }
}
