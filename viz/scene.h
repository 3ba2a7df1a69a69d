// The scene: what a view draws, as plain data in image coordinates (pixels at scale 1, origin top
// left, y down). Views fill a Scene; back ends (raster PNG, SVG, PDF) draw the same Scene, so the
// three formats cannot disagree about layout. Items are drawn in order (later on top).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace headmap::viz {

struct Color {
    uint8_t r = 0, g = 0, b = 0, a = 255;
    bool operator==(const Color&) const = default;
};

struct Point {
    float x = 0, y = 0;
};

// Filled (and optionally outlined) axis-aligned rectangle. stroke_width 0: no outline. The
// outline is centred on the rectangle's edge.
struct RectItem {
    float x = 0, y = 0, w = 0, h = 0;
    Color fill{0, 0, 0, 0};  // alpha 0: not filled
    Color stroke{0, 0, 0, 0};
    float stroke_width = 0;
    // Raster back end: the fill's edges are rounded to whole pixels. Abutting cells with
    // fractional edges otherwise leave faint anti-aliasing seams between them (two 50% edge
    // pixels composite to 75%, not 100%). SVG can say shape-rendering="crispEdges".
    bool pixel_snap = false;
};

struct CircleItem {
    float cx = 0, cy = 0, r = 0;
    Color fill{0, 0, 0, 0};
    Color stroke{0, 0, 0, 0};
    float stroke_width = 0;
};

// A disc filled with a radial gradient: `inner` at the centre to `outer` at radius r, linear in
// the distance from the centre (RGBA interpolated component-wise).
struct GradientCircleItem {
    float cx = 0, cy = 0, r = 0;
    Color inner, outer;
};

// Open or closed line through `points`, round joins and butt caps.
struct PolylineItem {
    std::vector<Point> points;
    Color stroke;
    float width = 1;
    bool closed = false;
};

enum class Anchor { Start, Middle, End };                 // where x is along the text's direction
enum class Baseline { Top, Middle, Alphabetic, Bottom };  // where y is across it

// One line of UTF-8 text. (x, y) is the anchor point; anchor and baseline place the unrotated
// text relative to it, then the text is rotated about it by rotation_deg, following SVG:
// positive turns clockwise on screen (y down), so -90 reads upwards, as a y-axis label.
struct TextItem {
    std::string utf8;
    float x = 0, y = 0;
    float size = 12;  // font size in pixels (em height)
    Color color;
    Anchor anchor = Anchor::Start;
    Baseline baseline = Baseline::Alphabetic;
    float rotation_deg = 0;
    bool bold = false;
};

// Items between ClipBegin and the matching ClipEnd are clipped to the rectangle. Clips nest
// (intersect).
struct ClipBegin {
    float x = 0, y = 0, w = 0, h = 0;
};
struct ClipEnd {};

using Item = std::variant<RectItem, CircleItem, GradientCircleItem, PolylineItem, TextItem,
                          ClipBegin, ClipEnd>;

struct Scene {
    float width = 0, height = 0;  // in pixels at scale 1
    Color background{255, 255, 255, 255};
    std::vector<Item> items;

    void add(Item item) { items.push_back(std::move(item)); }
};

}  // namespace headmap::viz
