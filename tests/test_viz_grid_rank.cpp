// viz::grid's ranking annotations (GridOptions column_labels, cell_labels, outlined): frames around
// the chosen thumbnails, labels under each thumbnail, rank column headers, and bad options.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "headmap/error.hpp"
#include "viz/views.h"
#include "viz_test_support.h"

using namespace headmap;
using namespace headmap::viz;
using namespace viz_test;

namespace {

std::vector<float> random_maps(size_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> v(count);
    for (float& x : v) x = u(rng);
    return v;
}

const TextItem* text(const Scene& scene, const std::string& s) {
    for (const TextItem* t : items_of<TextItem>(scene))
        if (t->utf8 == s) return t;
    return nullptr;
}

}  // namespace

TEST_CASE("grid ranking: outlined thumbnails framed, labels under thumbnails, rank headers") {
    const int layers = 2, heads = 3, seq = 4;
    const std::vector<float> maps = random_maps(size_t(layers * heads * seq * seq), 9);
    const std::vector<int> layer_ids = {0, 1}, head_ids = {0, 1, 2};
    GridOptions plain;
    plain.thumb = 40;
    const Scene base = grid(font(), maps, layer_ids, head_ids, seq, plain);

    GridOptions o = plain;
    o.outlined = {4, 0};  // layer 1 head 1, layer 0 head 0
    const Scene framed = grid(font(), maps, layer_ids, head_ids, seq, o);
    // Outlines only add frames: the layout is the plain one.
    CHECK(framed.width == base.width);
    CHECK(framed.height == base.height);
    std::vector<const RectItem*> frames;
    for (const RectItem* r : items_of<RectItem>(framed))
        if (r->stroke_width > 0 && r->stroke == o.outline_color) frames.push_back(r);
    REQUIRE(frames.size() == 2);
    // The thumbnails are the rects of size thumb x thumb at the mode colour, one per map in
    // order; the frame surrounds its thumbnail.
    std::vector<const RectItem*> thumbs;
    for (const RectItem* r : items_of<RectItem>(base))
        if (r->w == 40 && r->h == 40) thumbs.push_back(r);
    REQUIRE(thumbs.size() == 6);
    for (size_t k = 0; k < 2; ++k) {
        const RectItem* t = thumbs[size_t(o.outlined[k])];
        CAPTURE(k);
        CHECK(frames[k]->x < t->x);
        CHECK(frames[k]->y < t->y);
        CHECK(frames[k]->x + frames[k]->w > t->x + t->w);
        CHECK(frames[k]->y + frames[k]->h > t->y + t->h);
        CHECK(frames[k]->x > t->x - 6);  // inside the gap
        CHECK(frames[k]->fill.a == 0);
    }

    GridOptions sorted = plain;
    sorted.column_labels = {"#1", "#2", "#3"};
    sorted.cell_labels = {"H2", "H0", "H1", "H1", "H2", "H0"};
    const Scene labelled = grid(font(), maps, layer_ids, head_ids, seq, sorted);
    CHECK(text(labelled, "#1") != nullptr);
    CHECK(text(labelled, "H0") != nullptr);
    // A label strip under each row moves the next row down by its height.
    std::vector<const RectItem*> labelled_thumbs;
    for (const RectItem* r : items_of<RectItem>(labelled))
        if (r->w == 40 && r->h == 40) labelled_thumbs.push_back(r);
    REQUIRE(labelled_thumbs.size() == 6);
    CHECK(labelled_thumbs[0]->y == thumbs[0]->y);
    CHECK(labelled_thumbs[3]->y == doctest::Approx(thumbs[3]->y + 9 * 1.3f));
    int under = 0;
    for (const TextItem* t : items_of<TextItem>(labelled)) {
        if (t->size != 9) continue;
        ++under;
        CHECK(t->baseline == Baseline::Top);
        CHECK(t->y > labelled_thumbs[0]->y + 40);  // under a thumbnail
        CHECK(t->y < labelled.height);
    }
    CHECK(under == 6);
    const TextItem* first_header = text(base, "H0");
    REQUIRE(first_header != nullptr);
    CHECK(text(labelled, "#1")->x == first_header->x);

    GridOptions bad = plain;
    bad.outlined = {6};
    CHECK_THROWS_AS(grid(font(), maps, layer_ids, head_ids, seq, bad), Error);
    bad = plain;
    bad.column_labels = {"#1"};
    CHECK_THROWS_AS(grid(font(), maps, layer_ids, head_ids, seq, bad), Error);
    bad = plain;
    bad.cell_labels = {"H0", "H1"};
    CHECK_THROWS_AS(grid(font(), maps, layer_ids, head_ids, seq, bad), Error);
}
