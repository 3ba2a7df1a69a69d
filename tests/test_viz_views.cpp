// The views: colormaps, labels, the table-lens layout and each IzzyViz-style view, checked on
// the Scene they build (no back end involved).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "viz/views.h"
#include "viz_test_support.h"

using namespace headmap;
using namespace headmap::viz;
using namespace viz_test;

namespace {

Color hex(uint32_t rgb) {
    return Color{uint8_t(rgb >> 16), uint8_t(rgb >> 8), uint8_t(rgb), 255};
}

std::vector<std::string> tokens(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("Ġtok" + std::to_string(i));
    return out;
}

std::vector<float> random_map(int rows, int cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> v(size_t(rows) * size_t(cols));
    for (float& x : v) x = u(rng);
    return v;
}

// The first rows*cols RectItems of a table-lens view are its cells, row-major.
std::vector<const RectItem*> cells_of(const Scene& scene, int rows, int cols) {
    auto rects = items_of<RectItem>(scene);
    REQUIRE(rects.size() >= size_t(rows) * size_t(cols));
    rects.resize(size_t(rows) * size_t(cols));
    return rects;
}

}  // namespace

TEST_CASE("colormaps are matplotlib's tables") {
    CHECK(colormap("viridis")(0) == hex(0x440154));
    CHECK(colormap("viridis")(1) == hex(0xfde725));
    CHECK(colormap("viridis")(0.5f) == hex(0x21918c));
    CHECK(colormap("viridis")(0.25f) == hex(0x3b528b));
    CHECK(colormap("magma")(0) == hex(0x000004));
    CHECK(colormap("magma")(1) == hex(0xfcfdbf));
    CHECK(colormap("Blues")(0) == hex(0xf7fbff));
    CHECK(colormap("Blues")(1) == hex(0x08306b));
    CHECK(colormap("Blues")(0.5f) == hex(0x6aaed6));
    CHECK(colormap("Purples")(1) == hex(0x3f007d));
    CHECK(colormap("Greys")(0) == hex(0xffffff));
    CHECK(colormap("Greys")(1) == hex(0x000000));
    CHECK(colormap("RdBu")(0) == hex(0x67001f));
    CHECK(colormap("RdBu")(1) == hex(0x053061));
    CHECK(colormap("RdBu")(0.5f) == hex(0xf6f7f7));
    CHECK(colormap("RdBu_r")(0) == hex(0x053061));
    // Out of range and NaN clamp instead of reading outside the table.
    CHECK(colormap("viridis")(-3) == hex(0x440154));
    CHECK(colormap("viridis")(7) == hex(0xfde725));
    CHECK(colormap("viridis")(NAN) == hex(0x440154));
    for (const std::string& name : colormap_names()) CHECK(colormap(name).table.size() == 256);
    CHECK(colormap_names().size() == 6);
}

TEST_CASE("an unknown colormap is an error that lists the known ones") {
    try {
        colormap("jet");
        FAIL("no error");
    } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(m.find("jet") != std::string::npos);
        for (const std::string& name : colormap_names()) CHECK(m.find(name) != std::string::npos);
    }
    const std::vector<float> v{0.5f};
    HeatmapOptions o;
    o.colormap = "nope";
    CHECK_THROWS_AS(heatmap(font(), MapView{v, 1, 1}, {}, {}, o), Error);
}

TEST_CASE("power norm") {
    CHECK(power_norm(1, 0, 2, 2) == doctest::Approx(0.25));
    CHECK(power_norm(0.5f, 0, 1, 1.5f) == doctest::Approx(std::pow(0.5, 1.5)));
    CHECK(power_norm(0.25f, 0, 1, 1.5f) == doctest::Approx(0.125));
    CHECK(power_norm(3, 1, 3, 1.5f) == 1);
    CHECK(power_norm(-1, 0, 2, 2) == 0);  // clipped at 0
    CHECK(power_norm(5, 0, 2, 2) == 1);
    CHECK(power_norm(NAN, 0, 2, 2) == 0);
    CHECK(power_norm(1, 1, 1, 2) == 0);  // empty range
    // gamma > 1 moves small values towards the light (low) end.
    CHECK(power_norm(0.3f, 0, 1, 1.5f) < 0.3f);
}

TEST_CASE("top cells: threshold = n-th largest, ties all taken") {
    const std::vector<float> v{0.1f, 0.5f, 0.5f,  //
                               0.5f, 0.2f, 0.3f,  //
                               0.0f, 0.1f, 0.9f};
    const MapView m{v, 3, 3};
    CHECK(top_cells(m, 1) == std::vector<int>{8});
    CHECK(top_cells(m, 2) == std::vector<int>{8, 1, 2, 3});  // three tie at the 2nd value
    CHECK(top_cells(m, 4) == std::vector<int>{8, 1, 2, 3});
    CHECK(top_cells(m, 5) == std::vector<int>{8, 1, 2, 3, 5});
    CHECK(top_cells(m, 0).empty());
    CHECK(top_cells(m, 100).size() == 9);
    // Under a causal mask the upper triangle (0.5, 0.5, 0.3) does not compete.
    CHECK(top_cells(m, 2, true) == std::vector<int>{8, 3});
}

TEST_CASE("top-n rows and columns are enlarged, with value annotations") {
    const std::vector<float> v{0.11f, 0.23f, 0.11f,  //
                               0.11f, 0.11f, 0.11f,  //
                               0.11f, 0.11f, 0.11f};
    HeatmapOptions o;
    o.top = 1;
    o.cell = 10;
    o.enlarged_size = 1.8f;
    const Scene s = heatmap(font(), MapView{v, 3, 3}, tokens(3), tokens(3), o);
    const auto cells = cells_of(s, 3, 3);
    // Column 1 and row 0 hold the top cell: 18 px instead of 10.
    CHECK(cells[0]->w == 10);
    CHECK(cells[1]->w == 18);
    CHECK(cells[2]->w == 10);
    CHECK(cells[0]->h == 18);
    CHECK(cells[3]->h == 10);
    CHECK(cells[6]->h == 10);
    // Contiguous, pixel-aligned edges.
    CHECK(cells[1]->x == cells[0]->x + 10);
    CHECK(cells[2]->x == cells[1]->x + 18);
    CHECK(cells[3]->y == cells[0]->y + 18);
    CHECK(cells[0]->x == std::round(cells[0]->x));
    const TextItem* value = find_text(s, "0.230");
    REQUIRE(value != nullptr);
    CHECK(value->x == doctest::Approx(cells[1]->x + 9));
    CHECK(find_text(s, "0.22") != nullptr);  // the colour bar's round top tick (range to 0.23)
    // The top cell is the brightest (viridis yellow): dark text. Others: none annotated.
    CHECK(value->color.r < 100);
    CHECK(find_text(s, "0.110") == nullptr);
    check_inside(s);
}

TEST_CASE("annotation text is white on dark cells") {
    const std::vector<float> v{0.9f, 0.1f, 0.1f, 0.1f};
    HeatmapOptions o;
    o.top = 1;
    o.colormap = "Greys";  // the max is black
    const Scene s = heatmap(font(), MapView{v, 2, 2}, {}, {}, o);
    const TextItem* value = find_text(s, "0.900");
    REQUIRE(value != nullptr);
    CHECK(value->color == Color{255, 255, 255, 255});
}

TEST_CASE("cells take the colormap through the power norm") {
    const std::vector<float> v{0.0f, 0.25f, 0.5f, 1.0f};
    HeatmapOptions o;
    o.gamma = 1.5f;
    const Scene s = heatmap(font(), MapView{v, 2, 2}, {}, {}, o);
    const auto cells = cells_of(s, 2, 2);
    const Colormap cm = colormap("viridis");
    for (int i = 0; i < 4; ++i)
        CHECK(cells[size_t(i)]->fill == cm(power_norm(v[size_t(i)], 0, 1, 1.5f)));
    // vmin/vmax override the map's range; vmin >= vmax is refused.
    o.vmin = 0.5f;
    o.vmax = 0.25f;
    CHECK_THROWS_AS(heatmap(font(), MapView{v, 2, 2}, {}, {}, o), Error);
}

TEST_CASE("the colour bar has round ticks, evenly spaced, inside the range") {
    const std::vector<float> v{0.0f, 0.3f, 0.6f, 0.6f};
    const Scene s = heatmap(font(), MapView{v, 2, 2}, {}, {}, HeatmapOptions{});
    for (const char* t : {"0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"}) {
        INFO(t);
        CHECK(find_text(s, t) != nullptr);
    }
    const float y0 = find_text(s, "0.0")->y, y1 = find_text(s, "0.1")->y,
                y6 = find_text(s, "0.6")->y;
    CHECK(y0 > y6);  // the top of the bar is the maximum
    CHECK((y0 - y6) == doctest::Approx(6 * (y0 - y1)).epsilon(0.01));

    // A real map's range (0.013..0.87) gets 0.2 steps, not sixths of the range; a near-uniform
    // one (0.0671..0.0789, a flow map) 0.002 steps.
    const std::vector<float> wide{0.013f, 0.2f, 0.5f, 0.87f};
    const Scene w = heatmap(font(), MapView{wide, 2, 2}, {}, {}, HeatmapOptions{});
    for (const char* t : {"0.2", "0.4", "0.6", "0.8"}) CHECK(find_text(w, t) != nullptr);
    CHECK(find_text(w, "0.0") == nullptr);  // below the range
    CHECK(find_text(w, "0.01") == nullptr);
    CHECK(find_text(w, "0.16") == nullptr);
    const std::vector<float> flat{0.0671f, 0.07f, 0.075f, 0.0789f};
    const Scene f = heatmap(font(), MapView{flat, 2, 2}, {}, {}, HeatmapOptions{});
    for (const char* t : {"0.068", "0.070", "0.072", "0.074", "0.076", "0.078"}) {
        INFO(t);
        CHECK(find_text(f, t) != nullptr);
    }
    CHECK(find_text(f, "0.067") == nullptr);
    CHECK(find_text(f, "0.080") == nullptr);
}

TEST_CASE("question-context mode: five panels, titles 3 and 4 the right way round") {
    const auto panels = question_context_panels(10, 4);
    REQUIRE(panels.size() == 5);
    CHECK(panels[0].title == "A -> A (Question attending to Question)");
    CHECK(panels[1].title == "B -> B (Context attending to Context)");
    CHECK(panels[2].title == "A -> B (Question attending to Context)");
    CHECK(panels[3].title == "B -> A (Context attending to Question)");
    CHECK(panels[4].title == "All -> All (All tokens attending to all tokens)");
    // A -> B: A's rows (queries) over B's columns (keys).
    CHECK(
        (panels[2].row0 == 0 && panels[2].rows == 4 && panels[2].col0 == 4 && panels[2].cols == 6));
    CHECK(
        (panels[3].row0 == 4 && panels[3].rows == 6 && panels[3].col0 == 0 && panels[3].cols == 4));
    CHECK(
        (panels[0].rows == 4 && panels[0].cols == 4 && panels[1].rows == 6 && panels[1].cols == 6));
    CHECK((panels[4].rows == 10 && panels[4].cols == 10));
    CHECK_THROWS_AS(question_context_panels(10, 0), Error);
    CHECK_THROWS_AS(question_context_panels(10, 10), Error);

    // Block (0, 4..9) holds distinct values so the A -> B panel can be recognised by colour.
    std::vector<float> v(100, 0.01f);
    v[0 * 10 + 7] = 1.0f;  // A row 0 attends to B token 7
    HeatmapOptions o;
    o.cell = 10;
    o.question_split = 4;
    const Scene s = heatmap(font(), MapView{v, 10, 10}, tokens(10), tokens(10), o);
    for (const auto& p : panels) CHECK(find_text(s, p.title) != nullptr);
    int cells = 0, bright = 0;
    for (const RectItem* r : items_of<RectItem>(s)) {
        if (r->w == 10 && r->h == 10 && r->stroke_width == 0) {
            ++cells;
            if (r->fill == colormap("viridis")(1)) ++bright;
        }
    }
    CHECK(cells == 16 + 36 + 24 + 24 + 100);
    CHECK(bright == 2);  // in A -> B and in All -> All, nowhere else: one colour scale
    check_inside(s);
    o.question_split = 12;
    CHECK_THROWS_AS(heatmap(font(), MapView{v, 10, 10}, {}, {}, o), Error);
}

TEST_CASE("labels: display_token and special tokens") {
    CHECK(display_token("Ġhello") == "\u2423hello");
    CHECK(display_token("hello") == "hello");
    CHECK(display_token("Ċ") == "\u21b5");
    CHECK(display_token("ĠĠ") == "\u2423\u2423");
    CHECK(display_token("Ã©t") == "\xc3\xa9t");  // GPT-2's spelling of "ét"
    CHECK(display_token("ĉ") == "\\t");
    CHECK(display_token("ðŁ") == "\\xf0\\x9f");  // half an emoji
    CHECK(display_token("##ing") == "##ing");
    CHECK(display_token("caf\xc3\xa9") == "caf\xc3\xa9");    // WordPiece Latin-1 stays
    CHECK(display_token("\xe2\x96\x81the") == "\u2423the");  // SentencePiece
    CHECK(display_token("<0x0A>") == "\u21b5");
    CHECK(display_token("[CLS]") == "[CLS]");
    CHECK(display_token("") == "");
    for (const char* s : {"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>", "<|endoftext|>"}) {
        CHECK(is_special_token(s));
    }
    CHECK_FALSE(is_special_token("hello"));
    CHECK_FALSE(is_special_token("[cls"));
    CHECK_FALSE(is_special_token("<|"));

    const std::vector<std::string> t{"[CLS]", "hi", "[SEP]"};
    const std::vector<float> v(9, 0.3f);
    const Scene s = heatmap(font(), MapView{v, 3, 3}, t, t, HeatmapOptions{});
    int bold_cls = 0, plain_hi = 0;
    for (const TextItem* x : items_of<TextItem>(s)) {
        if (x->utf8 == "[CLS]" && x->bold) ++bold_cls;
        if (x->utf8 == "hi" && !x->bold) ++plain_hi;
    }
    CHECK(bold_cls == 2);  // row and column
    CHECK(plain_hi == 2);
}

TEST_CASE("long inputs: sparse labels, no value annotations") {
    const int n = 100;
    std::vector<float> v(size_t(n) * n, 0.01f);
    v[size_t(37) * n + 53] = 0.9f;
    HeatmapOptions o;
    o.top = 1;
    o.label_interval = 20;
    const Scene s = heatmap(font(), MapView{v, n, n}, tokens(n), tokens(n), o);
    CHECK(find_text(s, "0.900") == nullptr);
    CHECK(find_text(s, "\u2423tok37") != nullptr);  // the top cell's row
    CHECK(find_text(s, "\u2423tok53") != nullptr);  // and column
    CHECK(find_text(s, "\u2423tok40") != nullptr);  // every 20th
    CHECK(find_text(s, "\u2423tok41") == nullptr);
    int labels = 0;
    for (const TextItem* t : items_of<TextItem>(s)) labels += t->utf8.rfind("\u2423tok", 0) == 0;
    CHECK(labels <= 2 * (1 + n / 20));
    check_inside(s);
}

TEST_CASE("labels are elided and nothing is clipped") {
    std::vector<std::string> t = tokens(5);
    t[2] = "Ġan_extraordinarily_long_token_that_would_never_fit_in_the_margin";
    const std::vector<float> v = random_map(5, 5, 3);
    HeatmapOptions o;
    o.top = 2;
    o.title = "A rather long title for a small five by five heatmap figure";
    const Scene s = heatmap(font(), MapView{v, 5, 5}, t, t, o);
    CHECK(find_text(s, display_token(t[2])) == nullptr);  // elided
    check_inside(s);
}

TEST_CASE("user regions are outlined; bad regions are errors") {
    const std::vector<float> v = random_map(6, 6, 5);
    HeatmapOptions o;
    o.regions = {CellRegion{1, 1, 3, 4}};
    o.cell = 10;
    const Scene s = heatmap(font(), MapView{v, 6, 6}, {}, {}, o);
    const auto cells = cells_of(s, 6, 6);
    int outlines = 0;
    for (const RectItem* r : items_of<RectItem>(s)) {
        if (r->stroke_width > 0 && r->fill.a == 0) {
            ++outlines;
            CHECK(r->x == cells[1]->x);
            CHECK(r->y == cells[6]->y);
            CHECK(r->w == 40);
            CHECK(r->h == 30);
        }
    }
    CHECK(outlines == 1);
    o.regions = {CellRegion{1, 1, 6, 2}};
    CHECK_THROWS_AS(heatmap(font(), MapView{v, 6, 6}, {}, {}, o), Error);
}

TEST_CASE("causal mask: upper triangle grey and hatched, range from allowed cells") {
    std::vector<float> v{0.2f, 9.0f, 9.0f,  //
                         0.4f, 0.6f, 9.0f,  //
                         0.1f, 0.3f, 0.5f};
    HeatmapOptions o;
    o.causal_mask = true;
    const Scene s = heatmap(font(), MapView{v, 3, 3}, {}, {}, o);
    const auto cells = cells_of(s, 3, 3);
    const Color grey{238, 238, 238, 255};
    CHECK(cells[1]->fill == grey);
    CHECK(cells[2]->fill == grey);
    CHECK(cells[5]->fill == grey);
    CHECK(cells[4]->fill == colormap("viridis")(1));  // 0.6 is the max once 9.0 is masked
    CHECK(!items_of<PolylineItem>(s).empty());
}

TEST_CASE("cross-attention shapes and non-finite values") {
    std::vector<float> v = random_map(3, 7, 4);  // 3 decoder rows over 7 encoder columns
    v[4] = NAN;
    HeatmapOptions o;
    o.top = 2;
    const Scene s = heatmap(font(), MapView{v, 3, 7}, tokens(3), tokens(7), o);
    const auto cells = cells_of(s, 3, 7);
    CHECK(cells[4]->fill == Color{238, 238, 238, 255});   // drawn as missing, not as a colour
    CHECK(top_cells(MapView{v, 3, 7}, 30).size() == 20);  // NaN never counts
    check_inside(s);
}

TEST_CASE("compare: circle radius = min(scale * 0.45 * |b - a| / max|b - a|, 0.5) cells") {
    const std::vector<float> a{0.1f, 0.2f, 0.3f, 0.4f};
    const std::vector<float> b{0.1f, 0.3f, 0.5f, 0.35f};  // |d| = 0, 0.1, 0.2, 0.05
    CompareOptions o;
    Scene s = compare(font(), MapView{a, 2, 2}, MapView{b, 2, 2}, {}, {}, o);
    const float cell = cells_of(s, 2, 2)[0]->w;
    auto circles = items_of<CircleItem>(s);
    REQUIRE(circles.size() == 3);  // none where the difference is 0
    CHECK(circles[0]->r == doctest::Approx(0.45 * 0.5 * cell));
    CHECK(circles[1]->r == doctest::Approx(0.45 * cell));
    CHECK(circles[2]->r == doctest::Approx(0.45 * 0.25 * cell));
    // Background: the first map; circles: the second, on one norm over both (0.1 .. 0.5).
    const Colormap cm = colormap("viridis");
    CHECK(cells_of(s, 2, 2)[3]->fill == cm(power_norm(0.4f, 0.1f, 0.5f, 1.5f)));
    CHECK(circles[1]->fill == cm(power_norm(0.5f, 0.1f, 0.5f, 1.5f)));

    o.scale = 2;  // capped at half a cell
    s = compare(font(), MapView{a, 2, 2}, MapView{b, 2, 2}, {}, {}, o);
    circles = items_of<CircleItem>(s);
    CHECK(circles[0]->r == doctest::Approx(0.45 * cell));
    CHECK(circles[1]->r == doctest::Approx(0.5 * cell));

    o.signed_colors = true;
    s = compare(font(), MapView{a, 2, 2}, MapView{b, 2, 2}, {}, {}, o);
    circles = items_of<CircleItem>(s);
    CHECK(circles[0]->fill == circles[1]->fill);  // both increases
    CHECK(circles[2]->fill != circles[0]->fill);  // a decrease

    // Identical maps: no circles at all.
    s = compare(font(), MapView{a, 2, 2}, MapView{a, 2, 2}, {}, {}, CompareOptions{});
    CHECK(items_of<CircleItem>(s).empty());
    check_inside(s);
}

TEST_CASE("difference: diverging scale centred on 0") {
    const std::vector<float> a{0.5f, 0.5f, 0.5f, 0.5f};
    const std::vector<float> b{0.5f, 0.9f, 0.1f, 0.7f};
    const Scene s =
        difference(font(), MapView{a, 2, 2}, MapView{b, 2, 2}, {}, {}, CompareOptions{});
    const auto cells = cells_of(s, 2, 2);
    const Colormap cm = colormap("RdBu_r");
    CHECK(cells[0]->fill == cm(0.5f));  // no change: the neutral middle
    CHECK(cells[1]->fill == cm(1.0f));
    CHECK(cells[2]->fill == cm(0.0f));
}

TEST_CASE("shape mismatches are errors with clear messages") {
    const std::vector<float> a(4, 0.25f), b(9, 0.1f);
    try {
        compare(font(), MapView{a, 2, 2}, MapView{b, 3, 3}, {}, {}, CompareOptions{});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("differ in shape (2x2 vs 3x3)") != std::string::npos);
    }
    CHECK_THROWS_AS(difference(font(), MapView{a, 2, 2}, MapView{b, 3, 3}, {}, {}, {}), Error);
    const std::vector<MapView> runs{MapView{a, 2, 2}, MapView{b, 3, 3}};
    try {
        stability(font(), runs, {}, {}, StabilityOptions{});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "stability: run 2 is 3x3 but run 1 is 2x2");
    }
    CHECK_THROWS_AS(evolution(font(), runs, {}, {}, EvolutionOptions{}), Error);
    CHECK_THROWS_AS(stability(font(), std::span<const MapView>{}, {}, {}, {}), Error);
    // Values that do not fill the shape, labels of the wrong count.
    CHECK_THROWS_AS(heatmap(font(), MapView{a, 3, 3}, {}, {}, {}), Error);
    try {
        heatmap(font(), MapView{a, 2, 2}, tokens(3), tokens(2), {});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "heatmap: 3 row tokens for 2 rows");
    }
    const std::vector<int> ids{0, 1};
    CHECK_THROWS_AS(grid(font(), a, ids, ids, 2, GridOptions{}), Error);
}

TEST_CASE("stability: err = population std / sqrt(n), radius 0.45 * err / max err") {
    // Three runs of a 1x3 map: cell 0 varies 1,2,3; cell 1 2,2.5,3 (half the spread); cell 2 fixed.
    const std::vector<float> r1{1, 2, 5}, r2{2, 2.5f, 5}, r3{3, 3, 5};
    const std::vector<MapView> runs{MapView{r1, 1, 3}, MapView{r2, 1, 3}, MapView{r3, 1, 3}};
    StabilityOptions o;
    const Scene s = stability(font(), runs, {}, {}, o);
    const auto discs = items_of<GradientCircleItem>(s);
    REQUIRE(discs.size() == 2);  // no disc where err = 0
    const auto cells = cells_of(s, 1, 3);
    const float cell = cells[0]->w;
    CHECK(discs[0]->r == doctest::Approx(0.45 * cell));
    CHECK(discs[1]->r == doctest::Approx(0.45 * 0.5 * cell));
    // Colours: one norm over [min(mean - err), max(mean + err)].
    const double err0 = std::sqrt(2.0 / 3.0) / std::sqrt(3.0);
    const float lo = float(2 - err0), hi = 5;
    const Colormap cm = colormap("viridis");
    CHECK(discs[0]->inner == cm(power_norm(float(2 - 2 * err0), lo, hi, 1.5f)));
    CHECK(discs[0]->outer == cm(power_norm(float(2 + 2 * err0), lo, hi, 1.5f)));
    CHECK(cells[2]->fill == cm(1));
    CHECK(find_text(s, "Stability over 3 runs") != nullptr);

    o.from_white = true;
    o.use_std = true;
    const Scene w = stability(font(), runs, {}, {}, o);
    const auto wd = items_of<GradientCircleItem>(w);
    REQUIRE(wd.size() == 2);
    CHECK(wd[0]->inner == Color{255, 255, 255, 255});
    CHECK(wd[1]->r == doctest::Approx(0.45 * 0.5 * cell));  // std scales the same way
}

TEST_CASE("evolution: one sparkline point per step in every cell") {
    const int T = 4;
    std::vector<std::vector<float>> data;
    std::vector<MapView> steps;
    for (int t = 0; t < T; ++t) data.push_back(random_map(3, 2, uint32_t(t + 10)));
    for (const auto& d : data) steps.push_back(MapView{d, 3, 2});
    const Scene s = evolution(font(), steps, {}, {}, EvolutionOptions{});
    const auto lines = items_of<PolylineItem>(s);
    REQUIRE(lines.size() == 6);
    const auto cells = cells_of(s, 3, 2);
    for (size_t i = 0; i < lines.size(); ++i) {
        REQUIRE(lines[i]->points.size() == size_t(T));
        const RectItem& c = *cells[i];
        CHECK(lines[i]->points.front().x == doctest::Approx(c.x + 0.1 * c.w));
        CHECK(lines[i]->points.back().x == doctest::Approx(c.x + 0.9 * c.w));
        for (const Point& p : lines[i]->points) {
            CHECK(p.y >= c.y + 0.15f * c.h - 1e-3f);
            CHECK(p.y <= c.y + 0.85f * c.h + 1e-3f);
        }
    }
    // Per-cell normalisation stretches every series over the full 70%.
    EvolutionOptions o;
    o.per_cell = true;
    const Scene p = evolution(font(), steps, {}, {}, o);
    for (const PolylineItem* l : items_of<PolylineItem>(p)) {
        float lo = 1e9f, hi = -1e9f;
        for (const Point& q : l->points) lo = std::min(lo, q.y), hi = std::max(hi, q.y);
        CHECK(hi - lo == doctest::Approx(0.7 * cells[0]->h));
    }
}

TEST_CASE("find_regions finds two bright blocks, sorted by mean") {
    const int n = 24;
    std::vector<float> v(size_t(n) * n);
    for (int r = 0; r < n; ++r) {
        for (int c = 0; c < n; ++c) {
            v[size_t(r) * n + c] = 0.01f + 0.002f * float((r * 7 + c * 3) % 5);  // faint texture
        }
    }
    auto fill = [&](int r0, int c0, int r1, int c1, float value) {
        for (int r = r0; r <= r1; ++r) {
            for (int c = c0; c <= c1; ++c) {
                v[size_t(r) * n + c] = value + 0.01f * float((r + c) % 2);
            }
        }
    };
    fill(14, 12, 17, 16, 0.6f);  // the brighter block, listed second on purpose
    fill(3, 4, 7, 8, 0.35f);
    const auto found = find_regions(MapView{v, n, n}, RegionOptions{});
    REQUIRE(found.size() >= 2);
    CHECK(found.size() <= 5);
    const CellRegion& a = found[0].cells;
    const CellRegion& b = found[1].cells;
    CHECK((a.r0 == 14 && a.c0 == 12 && a.r1 == 17 && a.c1 == 16));
    CHECK((b.r0 == 3 && b.c0 == 4 && b.r1 == 7 && b.c1 == 8));
    for (size_t i = 1; i < found.size(); ++i) CHECK(found[i - 1].mean >= found[i].mean);
    CHECK(found[0].mean == doctest::Approx(0.605).epsilon(0.01));

    const Scene s = regions(font(), MapView{v, n, n}, found, {}, {}, HeatmapOptions{});
    CHECK(find_text(s, "R1") != nullptr);
    CHECK(find_text(s, "R2") != nullptr);
    check_inside(s);

    // Deterministic, and bad options are refused.
    const auto again = find_regions(MapView{v, n, n}, RegionOptions{});
    REQUIRE(again.size() == found.size());
    for (size_t i = 0; i < found.size(); ++i) CHECK(again[i].score == found[i].score);
    RegionOptions bad;
    bad.n_seeds = 0;
    CHECK_THROWS_AS(find_regions(MapView{v, n, n}, bad), Error);
}

TEST_CASE("find_regions: a flat map and a single cell") {
    const std::vector<float> flat(64, 0.25f);
    const auto f = find_regions(MapView{flat, 8, 8}, RegionOptions{});
    CHECK(!f.empty());
    const std::vector<float> one{0.5f};
    const auto g = find_regions(MapView{one, 1, 1}, RegionOptions{});
    REQUIRE(g.size() == 1);
    CHECK((g[0].cells.r0 == 0 && g[0].cells.c1 == 0));
}

TEST_CASE("grid: thumbnails on one scale, labelled by layer and head") {
    const int L = 2, H = 3, S = 8;
    std::vector<float> maps = random_map(L * H * S, S, 9);
    const std::vector<int> layers{0, 5}, heads{1, 2, 7};
    GridOptions o;
    o.title = "All heads";
    const Scene s = grid(font(), maps, layers, heads, S, o);
    for (const char* t : {"L0", "L5", "H1", "H2", "H7", "All heads"})
        CHECK(find_text(s, t) != nullptr);
    check_inside(s);
    // The global max is drawn in the top colour wherever it is.
    int top = 0;
    for (const RectItem* r : items_of<RectItem>(s))
        top += r->fill == colormap("viridis")(1) && r->h <= 40;
    CHECK(top >= 1);
}

TEST_CASE("every view builds on a 1-token and a 512-token input") {
    for (int n : {1, 512}) {
        INFO("n = " << n);
        const std::vector<float> a = random_map(n, n, 1), b = random_map(n, n, 2);
        const std::vector<std::string> t = tokens(n);
        const MapView ma{a, n, n}, mb{b, n, n};
        const size_t cells = size_t(n) * size_t(n);
        HeatmapOptions o;
        o.top = 3;
        o.causal_mask = n > 1;
        Scene s = heatmap(font(), ma, t, t, o);
        CHECK(s.items.size() >= cells);
        CHECK(s.items.size() < cells + 4000);
        CHECK(s.width > 0);
        CHECK(s.width < 4000);
        check_inside(s);
        if (n > 1) {
            o.question_split = n / 3;
            s = heatmap(font(), ma, t, t, o);
            CHECK(s.items.size() >= 2 * cells);
            CHECK(s.items.size() < 2 * cells + 8000);
        }
        s = compare(font(), ma, mb, t, t, CompareOptions{});
        CHECK(s.items.size() <= 2 * cells + 4000);
        s = difference(font(), ma, mb, t, t, CompareOptions{});
        CHECK(s.items.size() <= cells + 4000);
        const std::vector<MapView> runs{ma, mb};
        s = stability(font(), runs, t, t, StabilityOptions{});
        CHECK(s.items.size() <= 2 * cells + 4000);
        s = evolution(font(), runs, t, t, EvolutionOptions{});
        CHECK(items_of<PolylineItem>(s).size() == cells);
        const auto found = find_regions(ma, RegionOptions{});
        CHECK(!found.empty());
        s = regions(font(), ma, found, t, t, HeatmapOptions{});
        CHECK(s.items.size() >= cells);
        const std::vector<int> ids{0};
        s = grid(font(), a, ids, ids, n, GridOptions{});
        CHECK(s.items.size() >= 1);
        CHECK(s.items.size() <= cells + 2000);
    }
}

TEST_CASE("labels at any length: every k-th token that fits, specials kept, none overlapping") {
    for (int n : {1, 64, 85, 128, 512, 1024}) {
        CAPTURE(n);
        std::vector<std::string> t = tokens(n);
        t.front() = "[CLS]";
        t.back() = "[SEP]";
        if (n > 40) t[size_t(n / 2 + 1)] = "[SEP]";  // a pair's middle separator, off the step
        const std::vector<float> v = random_map(n, n, uint32_t(n));
        const Scene s = heatmap(font(), MapView{v, n, n}, t, t, HeatmapOptions{});
        std::vector<const TextItem*> rows, cols;
        for (const TextItem* x : items_of<TextItem>(s)) {
            const bool token =
                x->utf8.rfind("\u2423tok", 0) == 0 || x->utf8 == "[CLS]" || x->utf8 == "[SEP]";
            if (!token) continue;
            (x->rotation_deg == 0 ? rows : cols).push_back(x);
        }
        // Labels on both axes at every length: all of them up to 64 tokens, then at least one
        // per 10 tokens (the step is 2 at 85 tokens, 5 at 512).
        CHECK(rows.size() == cols.size());
        if (n <= 64) {
            CHECK(rows.size() == size_t(n));
        } else {
            CHECK(rows.size() >= size_t(n / 10));
            CHECK(rows.size() < size_t(n));
        }
        int cls = 0, sep = 0;
        for (const TextItem* x : rows) {
            cls += x->utf8 == "[CLS]";
            sep += x->utf8 == "[SEP]";
        }
        CHECK(cls == (n > 1 ? 1 : 0));
        CHECK(sep == (n > 40 ? 2 : 1));
        // No two row labels closer than their size.
        std::vector<float> ys;
        for (const TextItem* x : rows) ys.push_back(x->y);
        std::sort(ys.begin(), ys.end());
        for (size_t i = 1; i < ys.size(); ++i) CHECK(ys[i] - ys[i - 1] >= rows[0]->size);
        check_inside(s);
    }
    // 85 tokens, 8 px cells, 8 px labels: every 2nd token.
    const std::vector<float> v = random_map(85, 85, 1);
    const Scene s = heatmap(font(), MapView{v, 85, 85}, tokens(85), tokens(85), HeatmapOptions{});
    CHECK(find_text(s, "\u2423tok2") != nullptr);
    CHECK(find_text(s, "\u2423tok84") != nullptr);
    CHECK(find_text(s, "\u2423tok3") == nullptr);
}

TEST_CASE("masked cells: hatched and left out in compare, difference, stability, evolution") {
    // A causal 3x3 pair: the upper triangle holds 9s that a mask must keep out of every scale,
    // circle and sparkline (they used to be drawn as dark zeros outside heatmap).
    const std::vector<float> a{0.2f, 9.0f, 9.0f, 0.4f, 0.6f, 9.0f, 0.1f, 0.3f, 0.5f};
    const std::vector<float> b{0.3f, 0.0f, 0.0f, 0.4f, 0.5f, 0.0f, 0.2f, 0.3f, 0.4f};
    const MapView A{a, 3, 3}, B{b, 3, 3};
    const Color grey{238, 238, 238, 255};
    auto masked_grey = [&](const Scene& s) {
        const auto cells = cells_of(s, 3, 3);
        return cells[1]->fill == grey && cells[2]->fill == grey && cells[5]->fill == grey &&
               cells[0]->fill != grey && !items_of<PolylineItem>(s).empty();
    };
    auto inside_masked = [&](const Scene& s, float x, float y) {
        const auto cells = cells_of(s, 3, 3);
        for (int i : {1, 2, 5}) {
            const RectItem* c = cells[size_t(i)];
            if (x >= c->x && x <= c->x + c->w && y >= c->y && y <= c->y + c->h) return true;
        }
        return false;
    };
    CompareOptions co;
    co.causal_mask = true;
    const Scene cmp = compare(font(), A, B, {}, {}, co);
    CHECK(masked_grey(cmp));
    for (const CircleItem* c : items_of<CircleItem>(cmp)) CHECK(!inside_masked(cmp, c->cx, c->cy));
    CHECK(items_of<CircleItem>(cmp).size() == 4);  // cells 0, 4, 6, 8 differ
    CHECK(find_text(cmp, "0.6") != nullptr);       // the bar tops at 0.6, not 9
    CHECK(find_text(cmp, "8") == nullptr);
    const Scene diff = difference(font(), A, B, {}, {}, co);
    CHECK(masked_grey(diff));
    CHECK(find_text(diff, "0.10") != nullptr);  // the largest allowed |b - a| is 0.1, not 9

    const std::vector<MapView> runs{A, B, A};
    StabilityOptions so;
    so.causal_mask = true;
    const Scene stab = stability(font(), runs, {}, {}, so);
    CHECK(masked_grey(stab));
    for (const GradientCircleItem* c : items_of<GradientCircleItem>(stab))
        CHECK(!inside_masked(stab, c->cx, c->cy));
    EvolutionOptions eo;
    eo.causal_mask = true;
    const Scene evo = evolution(font(), runs, {}, {}, eo);
    CHECK(masked_grey(evo));
    int sparklines = 0;
    for (const PolylineItem* p : items_of<PolylineItem>(evo)) sparklines += p->points.size() == 3;
    CHECK(sparklines == 6);  // the 6 allowed cells only
}

TEST_CASE("causal hatching reaches the first superdiagonal") {
    const std::vector<float> v{0.2f, 0.0f, 0.0f, 0.4f, 0.6f, 0.0f, 0.1f, 0.3f, 0.5f};
    HeatmapOptions o;
    o.causal_mask = true;
    o.cell = 36;
    const Scene s = heatmap(font(), MapView{v, 3, 3}, {}, {}, o);
    const auto cells = cells_of(s, 3, 3);
    // Some hatch segment lies wholly in cell (0, 1), in its lower-left half (next to the
    // diagonal), where lines that must also cross the diagonal cells cannot go.
    const RectItem* c = cells[1];
    bool lower_left = false;
    for (const PolylineItem* p : items_of<PolylineItem>(s)) {
        bool inside = true;
        float below = 0;
        for (const Point& q : p->points) {
            inside = inside && q.x >= c->x - 0.01f && q.x <= c->x + c->w + 0.01f &&
                     q.y >= c->y - 0.01f && q.y <= c->y + c->h + 0.01f;
            below += (q.x - c->x) - (q.y - c->y);  // < 0 under the cell's own diagonal
        }
        lower_left = lower_left || (inside && below < 0);
    }
    CHECK(lower_left);
}

TEST_CASE("a long caption wraps to the figure instead of widening it") {
    const std::vector<float> a = random_map(4, 4, 7), b = random_map(4, 4, 8);
    CompareOptions o{
        .title = "t",
        .first_name = "a rather long name for the first map, layer 3, mean of 12 heads",
        .second_name = "a rather long name for the second map, layer 3, mean of 12"};
    const Scene s = compare(font(), MapView{a, 4, 4}, MapView{b, 4, 4}, {}, {}, o);
    // The plot is ~200 px wide with its bar; the caption is ~700 px in one line.
    CHECK(s.width <= 360);
    int caption_lines = 0;
    for (const TextItem* t : items_of<TextItem>(s)) caption_lines += t->size == 11;
    CHECK(caption_lines >= 2);
    check_inside(s);
}

TEST_CASE("long maps: the scale's top is clipped at a percentile, said on the bar") {
    // A real encoder's long map: a first-token sink column of ~0.9 and a weak diagonal of 0.05.
    // On a min-max scale the diagonal was near the bottom colour, the map one dark square.
    const int n = 300;
    std::vector<float> v(size_t(n) * n, 0.0002f);
    for (int r = 0; r < n; ++r) {
        v[size_t(r) * n] = 0.9f;
        v[size_t(r) * n + size_t(r)] = 0.05f;
    }
    const Colormap cm = colormap("viridis");
    HeatmapOptions o;
    const Scene s = heatmap(font(), MapView{v, n, n}, {}, {}, o);
    const auto cells = cells_of(s, n, n);
    CHECK(cells[size_t(10) * n + 10]->fill == cm(1.0f));  // the diagonal at the top colour
    CHECK(find_text(s, "top: 99.5th pct.") != nullptr);
    check_inside(s);
    // A fixed --vmax, --clip 100, or a short map: the plain maximum, no note.
    o.vmax = 0.9f;
    const Scene fixed = heatmap(font(), MapView{v, n, n}, {}, {}, o);
    CHECK(cells_of(fixed, n, n)[size_t(10) * n + 10]->fill != cm(1.0f));
    CHECK(find_text(fixed, "top: 99.5th pct.") == nullptr);
    o.vmax.reset();
    o.clip_percentile = 100;
    CHECK(find_text(heatmap(font(), MapView{v, n, n}, {}, {}, o), "top: 99.5th pct.") == nullptr);
    o.clip_percentile = 99.5f;
    const std::vector<float> small(v.begin(), v.begin() + 64 * 64);
    CHECK(find_text(heatmap(font(), MapView{small, 64, 64}, {}, {}, o), "top: 99.5th pct.") ==
          nullptr);
    // The grid of such maps, likewise.
    const std::vector<int> ids{0};
    const Scene g = grid(font(), v, ids, ids, n, GridOptions{});
    CHECK(find_text(g, "top: 99.5th pct.") != nullptr);
    check_inside(g);
}

TEST_CASE("find_regions looks past sink columns; badges sit outside their boxes") {
    // Every row gives 0.7 to token 0 (an encoder's [CLS]); the structure is a 3x3 block of 0.08
    // at rows 10..12, columns 14..16, over a floor of 0.005.
    const int n = 24;
    std::vector<float> v(size_t(n) * n, 0.005f);
    for (int r = 0; r < n; ++r) v[size_t(r) * n] = 0.7f;
    for (int r = 10; r <= 12; ++r)
        for (int c = 14; c <= 16; ++c) v[size_t(r) * n + size_t(c)] = 0.08f;
    const MapView map{v, n, n};
    RegionOptions o;
    o.n_seeds = 3;
    const std::vector<FoundRegion> found = find_regions(map, o);
    REQUIRE(!found.empty());
    bool block = false;
    for (const FoundRegion& f : found) {
        CHECK(f.cells.c0 > 0);  // nothing in the sink column
        block =
            block || (f.cells.r0 >= 10 && f.cells.r1 <= 12 && f.cells.c0 >= 14 && f.cells.c1 <= 16);
    }
    CHECK(block);
    CHECK(found[0].mean == doctest::Approx(0.08f));  // the map's own values, not renormalised
    o.skip_sinks = false;                            // IzzyViz's search: the sink column first
    const std::vector<FoundRegion> raw = find_regions(map, o);
    REQUIRE(!raw.empty());
    CHECK(raw[0].cells.c1 == 0);

    HeatmapOptions h;
    h.cell = 20;
    const Scene s = regions(font(), map, found, {}, {}, h);
    const Color badge{255, 127, 14, 200};
    int badges = 0;
    for (const RectItem* r : items_of<RectItem>(s)) {
        if (r->fill != badge) continue;
        ++badges;
        // Not over any region's box.
        const auto cells = cells_of(s, n, n);
        for (const FoundRegion& f : found) {
            const float x0 = cells[size_t(f.cells.c0)]->x, y0 = cells[size_t(f.cells.r0) * n]->y;
            const float x1 = cells[size_t(f.cells.c1)]->x + 20,
                        y1 = cells[size_t(f.cells.r1) * n]->y + 20;
            const bool apart = r->x >= x1 || r->x + r->w <= x0 || r->y >= y1 || r->y + r->h <= y0;
            CHECK(apart);
        }
    }
    CHECK(badges == int(found.size()));
}
