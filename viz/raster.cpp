// The raster back end: a Scene as straight-alpha RGBA8, drawn in order with source-over
// compositing, and PNG encoding through stb_image_write (viz/isa/png_isa.cpp).
//
// Anti-aliasing is analytic, never supersampled, so output is deterministic and cheap:
// rectangles (fills and outlines) get exact area coverage of each pixel, and when all their
// edges are integral they become plain row fills, the path that a 512 x 512 heatmap's 262,144
// cells take. Round shapes use signed-distance coverage clamp(0.5 - d, 0, 1) (d: distance of the
// pixel centre outside the shape's edge). Clip rectangles may have fractional edges: pixels on
// them are weighted by the fraction inside.
//
// Text: layout matches Font::text_width (kerning, then advance). Baselines: Top puts the top of
// the font's ascent at y, Bottom the bottom of its descent, Middle the centre of that
// ascent + descent box, Alphabetic the baseline itself. Text at 0, 90, 180 or 270 degrees copies
// glyph bitmaps (turned in 90 degree steps) onto the pixel grid, its baseline rounded to a whole
// pixel and its pen positioned in quarter pixels; other angles sample the glyph bitmaps
// bilinearly.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numbers>
#include <string>
#include <string_view>

#include "headmap/error.hpp"
#include "viz/render.h"

namespace headmap::viz {
namespace {

struct Box {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool empty() const { return !(x1 > x0 && y1 > y0); }
};

Box intersect(const Box& a, const Box& b) {
    return {std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

float overlap(float a0, float a1, float b0, float b1) {
    return std::max(0.0f, std::min(a1, b1) - std::max(a0, b0));
}

float clamp01(float v) {
    return std::clamp(v, 0.0f, 1.0f);
}

// Edges within 1/1024 px of a pixel boundary are put on it: the error is far below one level of
// 8-bit colour, and such rectangles then take the fast path instead of blending hairline slivers.
float snap(float v) {
    const float r = std::round(v);
    return std::fabs(v - r) < 1.0f / 1024 ? r : v;
}

bool finite(std::initializer_list<float> values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// Source-over of colour c at effective alpha a (0..255) onto straight-alpha pixel p.
inline void blend(uint8_t* p, const Color& c, int a) {
    if (a <= 0) return;
    if (a >= 255) {
        p[0] = c.r, p[1] = c.g, p[2] = c.b, p[3] = 255;
        return;
    }
    const int da = p[3];
    if (da == 255) {  // the usual case: an opaque background
        const int ia = 255 - a;
        p[0] = uint8_t((c.r * a + p[0] * ia + 127) / 255);
        p[1] = uint8_t((c.g * a + p[1] * ia + 127) / 255);
        p[2] = uint8_t((c.b * a + p[2] * ia + 127) / 255);
        return;
    }
    // General straight-alpha source-over, in units of 1/255^2.
    const int dw = da * (255 - a);  // the destination's weight
    const int out = a * 255 + dw;
    if (out == 0) return;
    p[0] = uint8_t((c.r * a * 255 + p[0] * dw + out / 2) / out);
    p[1] = uint8_t((c.g * a * 255 + p[1] * dw + out / 2) / out);
    p[2] = uint8_t((c.b * a * 255 + p[2] * dw + out / 2) / out);
    p[3] = uint8_t((out + 127) / 255);
}

int alpha_of(const Color& c, float coverage) {
    if (!(coverage > 0)) return 0;  // also NaN, from degenerate geometry
    return int(float(c.a) * std::min(coverage, 1.0f) + 0.5f);
}

// A disc of radius r < 1 covers less than signed-distance coverage suggests (its centre pixel is
// never fully inside): below r = 0.5 the ink is scaled to the disc's true area, and between 0.5
// and 1 the correction fades out, so tiny circles (compare views of long inputs) keep their
// relative sizes.
float small_disc_factor(float r) {
    if (r >= 1) return 1;
    if (r < 0.5f) return 3 * r * r / ((r + 0.5f) * (r + 0.5f) * (r + 0.5f));
    return 0.75f + 0.5f * (r - 0.5f);
}

class Canvas {
  public:
    Canvas(Image& image, const Font& font, float scale)
        : image_(image), font_(font), scale_(scale) {
        clip_ = {0, 0, float(image.width), float(image.height)};
    }

    void operator()(const RectItem& r) {
        if (!finite({r.x, r.y, r.w, r.h, r.stroke_width})) return;
        const float x0 = r.x * scale_, y0 = r.y * scale_;
        const float x1 = (r.x + r.w) * scale_, y1 = (r.y + r.h) * scale_;
        const Box box{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)};
        if (r.pixel_snap) {
            const auto round = [](float v) { return std::floor(v + 0.5f); };
            fill_box({round(box.x0), round(box.y0), round(box.x1), round(box.y1)}, r.fill);
        } else {
            fill_box(box, r.fill);
        }
        if (r.stroke_width > 0 && r.stroke.a > 0) {
            const float half = r.stroke_width * scale_ / 2;
            stroke_box({box.x0 - half, box.y0 - half, box.x1 + half, box.y1 + half},
                       {box.x0 + half, box.y0 + half, box.x1 - half, box.y1 - half}, r.stroke);
        }
    }

    void operator()(const CircleItem& c) {
        if (!finite({c.cx, c.cy, c.r, c.stroke_width}) || c.r < 0) return;
        const float cx = c.cx * scale_, cy = c.cy * scale_, r = c.r * scale_;
        if (c.fill.a > 0) {
            const float factor = small_disc_factor(r);
            round_shape(cx, cy, r + 1, [&](float dist, uint8_t* p, float weight) {
                blend(p, c.fill, alpha_of(c.fill, clamp01(0.5f - (dist - r)) * factor * weight));
            });
        }
        if (c.stroke_width > 0 && c.stroke.a > 0) {
            // Hairlines are drawn 1 px wide at proportionally lower alpha: distance coverage
            // cannot represent a line thinner than a pixel.
            const float w = c.stroke_width * scale_;
            const float half = std::max(w, 1.0f) / 2, fade = std::min(w, 1.0f);
            round_shape(cx, cy, r + half + 1, [&](float dist, uint8_t* p, float weight) {
                const float cov = clamp01(0.5f - (std::fabs(dist - r) - half)) * fade * weight;
                blend(p, c.stroke, alpha_of(c.stroke, cov));
            });
        }
    }

    void operator()(const GradientCircleItem& g) {
        if (!finite({g.cx, g.cy, g.r}) || !(g.r > 0)) return;
        const float cx = g.cx * scale_, cy = g.cy * scale_, r = g.r * scale_;
        const float factor = small_disc_factor(r);
        const auto mix = [](uint8_t a, uint8_t b, float t) {
            return uint8_t(std::lround(float(a) + (float(b) - float(a)) * t));
        };
        round_shape(cx, cy, r + 1, [&](float dist, uint8_t* p, float weight) {
            const float cov = clamp01(0.5f - (dist - r)) * factor * weight;
            if (cov <= 0) return;
            const float t = clamp01(dist / r);
            const Color c{mix(g.inner.r, g.outer.r, t), mix(g.inner.g, g.outer.g, t),
                          mix(g.inner.b, g.outer.b, t), mix(g.inner.a, g.outer.a, t)};
            blend(p, c, alpha_of(c, cov));
        });
    }

    void operator()(const PolylineItem& line);
    void operator()(const TextItem& text);

    void operator()(const ClipBegin& c) {
        stack_.push_back(clip_);
        if (!finite({c.x, c.y, c.w, c.h})) {
            clip_ = {};
            return;
        }
        const float x0 = snap(c.x * scale_), y0 = snap(c.y * scale_);
        const float x1 = snap((c.x + c.w) * scale_), y1 = snap((c.y + c.h) * scale_);
        clip_ = intersect(clip_,
                          {std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)});
    }

    void operator()(const ClipEnd&) {
        if (stack_.empty()) return;  // unbalanced: nothing to undo
        clip_ = stack_.back();
        stack_.pop_back();
    }

  private:
    uint8_t* pixel(int x, int y) {
        return &image_.rgba[(size_t(y) * size_t(image_.width) + size_t(x)) * 4];
    }

    // Integer pixel range [x0, x1) x [y0, y1) touched by a box, within the clip.
    struct Span {
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    };
    Span pixels_of(Box b) const {
        b = intersect(b, clip_);
        if (b.empty()) return {};
        return {int(std::floor(b.x0)), int(std::floor(b.y0)), int(std::ceil(b.x1)),
                int(std::ceil(b.y1))};
    }

    // The fraction of pixel (x, y) inside the clip rectangle.
    float clip_weight(int x, int y) const {
        const float fx = float(x), fy = float(y);
        if (fx >= clip_.x0 && fx + 1 <= clip_.x1 && fy >= clip_.y0 && fy + 1 <= clip_.y1) return 1;
        return overlap(fx, fx + 1, clip_.x0, clip_.x1) * overlap(fy, fy + 1, clip_.y0, clip_.y1);
    }

    void fill_box(Box b, const Color& c);
    void stroke_box(Box outer, Box inner, const Color& c);

    // Calls shade(distance from the pixel centre to (cx, cy), pixel, clip weight) for each
    // pixel within `reach` of (cx, cy) that the clip does not hide.
    template <typename Shade>
    void round_shape(float cx, float cy, float reach, Shade&& shade) {
        const Span s = pixels_of({cx - reach, cy - reach, cx + reach, cy + reach});
        for (int y = s.y0; y < s.y1; ++y)
            for (int x = s.x0; x < s.x1; ++x) {
                const float w = clip_weight(x, y);
                if (w <= 0) continue;
                const float dx = float(x) + 0.5f - cx, dy = float(y) + 0.5f - cy;
                shade(std::sqrt(dx * dx + dy * dy), pixel(x, y), w);
            }
    }

    void draw_glyph_axis(const Font::Glyph& g, int cu, int cv, int axis_u, int su, int sv,
                         const Color& c);

    Image& image_;
    const Font& font_;
    float scale_;
    Box clip_;
    std::vector<Box> stack_;
    std::vector<float> scratch_;  // polyline coverage, reused across items
};

// Fills an axis-aligned box with exact area coverage. Clipping a box to a box is exact, so the
// clip is applied by intersection rather than per pixel.
void Canvas::fill_box(Box b, const Color& c) {
    if (c.a == 0) return;
    b = intersect({snap(b.x0), snap(b.y0), snap(b.x1), snap(b.y1)}, clip_);
    if (b.empty()) return;
    const int ix0 = int(std::floor(b.x0)), ix1 = int(std::ceil(b.x1));
    const int iy0 = int(std::floor(b.y0)), iy1 = int(std::ceil(b.y1));
    uint32_t packed = 0;
    const uint8_t bytes[4] = {c.r, c.g, c.b, 255};
    std::memcpy(&packed, bytes, 4);
    const bool integral =
        float(ix0) == b.x0 && float(ix1) == b.x1 && float(iy0) == b.y0 && float(iy1) == b.y1;
    if (integral && c.a == 255) {  // the heatmap-cell path: plain row fills
        for (int y = iy0; y < iy1; ++y) {
            uint8_t* row = pixel(ix0, y);
            for (int x = 0; x < ix1 - ix0; ++x) std::memcpy(row + 4 * x, &packed, 4);
        }
        return;
    }
    // Coverage is separable: column fraction times row fraction. Only the first and last
    // column and row can be partial.
    const auto fraction = [](int i, int i0, int i1, float e0, float e1) {
        if (i1 - i0 == 1) return e1 - e0;
        if (i == i0) return float(i0 + 1) - e0;
        if (i == i1 - 1) return e1 - float(i1 - 1);
        return 1.0f;
    };
    for (int y = iy0; y < iy1; ++y) {
        const float fy = fraction(y, iy0, iy1, b.y0, b.y1);
        uint8_t* row = pixel(0, y);
        const int inner = alpha_of(c, fy);
        blend(row + 4 * ix0, c, alpha_of(c, fy * fraction(ix0, ix0, ix1, b.x0, b.x1)));
        for (int x = ix0 + 1; x < ix1 - 1; ++x) blend(row + 4 * x, c, inner);
        if (ix1 - 1 > ix0)
            blend(row + 4 * (ix1 - 1), c,
                  alpha_of(c, fy * fraction(ix1 - 1, ix0, ix1, b.x0, b.x1)));
    }
}

// The band between two nested boxes (a rectangle's outline centred on its edge), exact:
// coverage = area(outer) - area(inner) within each pixel, both clipped.
void Canvas::stroke_box(Box outer, Box inner, const Color& c) {
    outer = intersect({snap(outer.x0), snap(outer.y0), snap(outer.x1), snap(outer.y1)}, clip_);
    if (outer.empty()) return;
    inner = intersect({snap(inner.x0), snap(inner.y0), snap(inner.x1), snap(inner.y1)}, outer);
    const bool hollow = !inner.empty();
    const Span s = pixels_of(outer);
    // Columns strictly inside the inner box contribute nothing on rows it fully covers.
    const int skip0 = hollow ? int(std::ceil(inner.x0)) : 0;
    const int skip1 = hollow ? int(std::floor(inner.x1)) : 0;
    for (int y = s.y0; y < s.y1; ++y) {
        const float fy = float(y);
        const float oy = overlap(fy, fy + 1, outer.y0, outer.y1);
        const float iy = hollow ? overlap(fy, fy + 1, inner.y0, inner.y1) : 0;
        const bool skip_middle = hollow && iy >= 1 && oy >= 1 && skip1 > skip0;
        for (int x = s.x0; x < s.x1; ++x) {
            if (skip_middle && x == skip0) x = skip1;
            if (x >= s.x1) break;
            const float fx = float(x);
            float cov = oy * overlap(fx, fx + 1, outer.x0, outer.x1);
            if (hollow) cov -= iy * overlap(fx, fx + 1, inner.x0, inner.x1);
            blend(pixel(x, y), c, alpha_of(c, cov));
        }
    }
}

// Round joins, butt caps: each pixel takes its largest coverage over the segments (so joins are
// not blended twice), then the whole line is blended once.
void Canvas::operator()(const PolylineItem& line) {
    const size_t n = line.points.size();
    if (n < 2 || line.stroke.a == 0 || !finite({line.width}) || !(line.width > 0)) return;
    std::vector<Point> pts(n);
    for (size_t i = 0; i < n; ++i) {
        if (!finite({line.points[i].x, line.points[i].y})) return;
        pts[i] = {line.points[i].x * scale_, line.points[i].y * scale_};
    }
    const float w = line.width * scale_;
    const float half = std::max(w, 1.0f) / 2, fade = std::min(w, 1.0f);  // hairlines: see circles
    Box bounds{pts[0].x, pts[0].y, pts[0].x, pts[0].y};
    for (const Point& p : pts)
        bounds = {std::min(bounds.x0, p.x), std::min(bounds.y0, p.y), std::max(bounds.x1, p.x),
                  std::max(bounds.y1, p.y)};
    const float reach = half + 1;
    const Span s =
        pixels_of({bounds.x0 - reach, bounds.y0 - reach, bounds.x1 + reach, bounds.y1 + reach});
    const int bw = s.x1 - s.x0, bh = s.y1 - s.y0;
    if (bw <= 0 || bh <= 0) return;
    scratch_.assign(size_t(bw) * size_t(bh), 0.0f);

    const bool closed = line.closed && n >= 3;
    const size_t segments = closed ? n : n - 1;
    for (size_t i = 0; i < segments; ++i) {
        const Point a = pts[i], b = pts[(i + 1) % n];
        const bool butt_start = !closed && i == 0, butt_end = !closed && i == segments - 1;
        const float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy);
        const Span seg = pixels_of({std::min(a.x, b.x) - reach, std::min(a.y, b.y) - reach,
                                    std::max(a.x, b.x) + reach, std::max(a.y, b.y) + reach});
        for (int y = seg.y0; y < seg.y1; ++y)
            for (int x = seg.x0; x < seg.x1; ++x) {
                const float px = float(x) + 0.5f - a.x, py = float(y) + 0.5f - a.y;
                float cov;
                if (len < 1e-6f) {  // a zero-length segment: a round dot (a join) or nothing
                    if (butt_start || butt_end) continue;
                    cov = clamp01(0.5f - (std::sqrt(px * px + py * py) - half));
                } else {
                    const float along = (px * dx + py * dy) / len;  // px from a towards b
                    const float t = std::clamp(along / len, 0.0f, 1.0f);
                    float ex = px - t * dx, ey = py - t * dy;
                    if ((butt_start && along < 0) || (butt_end && along > len)) {
                        // Beyond a butt cap: the distance across the line only, faded over the
                        // half pixel around the cap.
                        const float across = (px * dy - py * dx) / len;
                        ex = across, ey = 0;
                    }
                    cov = clamp01(0.5f - (std::sqrt(ex * ex + ey * ey) - half));
                    if (butt_start) cov *= clamp01(0.5f + along);
                    if (butt_end) cov *= clamp01(0.5f + (len - along));
                }
                float& slot = scratch_[size_t(y - s.y0) * size_t(bw) + size_t(x - s.x0)];
                slot = std::max(slot, cov);
            }
    }
    for (int y = s.y0; y < s.y1; ++y)
        for (int x = s.x0; x < s.x1; ++x) {
            const float cov = scratch_[size_t(y - s.y0) * size_t(bw) + size_t(x - s.x0)];
            if (cov > 0)
                blend(pixel(x, y), line.stroke,
                      alpha_of(line.stroke, cov * fade * clip_weight(x, y)));
        }
}

// Copies a glyph bitmap turned in a multiple of 90 degrees: bitmap column gx lands on image
// axis `axis_u` (0: x, 1: y) at index cu + su * gx, bitmap row gy on the other axis at
// cv + sv * gy.
void Canvas::draw_glyph_axis(const Font::Glyph& g, int cu, int cv, int axis_u, int su, int sv,
                             const Color& c) {
    const Span s = pixels_of(clip_);
    for (int gy = 0; gy < g.height; ++gy) {
        const int v = cv + sv * gy;
        for (int gx = 0; gx < g.width; ++gx) {
            const int cov = g.coverage[size_t(gy) * size_t(g.width) + size_t(gx)];
            if (cov == 0) continue;
            const int u = cu + su * gx;
            const int x = axis_u == 0 ? u : v, y = axis_u == 0 ? v : u;
            if (x < s.x0 || x >= s.x1 || y < s.y0 || y >= s.y1) continue;
            const float w = clip_weight(x, y);
            const int a =
                w >= 1 ? (c.a * cov + 127) / 255 : int(float(c.a) * float(cov) / 255.0f * w + 0.5f);
            blend(pixel(x, y), c, a);
        }
    }
}

void Canvas::operator()(const TextItem& t) {
    if (t.utf8.empty() || t.color.a == 0 || !finite({t.x, t.y, t.size, t.rotation_deg})) return;
    const float size = t.size * scale_;
    if (!(size > 0) || size > 4096) return;
    const float ax = t.x * scale_, ay = t.y * scale_;
    const float width = font_.text_width(t.utf8, size, t.bold);
    // Pen positions become ints below; text this far away could not reach the image anyway.
    constexpr float kFar = 1e7f;
    if (std::fabs(ax) > kFar || std::fabs(ay) > kFar || width > kFar) return;
    const float start = t.anchor == Anchor::Start    ? 0
                        : t.anchor == Anchor::Middle ? -width / 2
                                                     : -width;
    const float ascent = font_.ascent(size), descent = font_.descent(size);
    const float base = t.baseline == Baseline::Top      ? ascent
                       : t.baseline == Baseline::Bottom ? -descent
                       : t.baseline == Baseline::Middle ? (ascent - descent) / 2
                                                        : 0;
    const std::u32string cps = decode_utf8(t.utf8);

    float turn = std::fmod(t.rotation_deg, 360.0f);
    if (turn < 0) turn += 360;
    const float quarter = std::round(turn / 90);
    if (std::fabs(turn - quarter * 90) < 1e-3f) {
        // Text direction u and "down" v as image axes with signs, clockwise quarter turns k.
        static constexpr int kAxisU[4] = {0, 1, 0, 1}, kSignU[4] = {1, 1, -1, -1};
        static constexpr int kSignV[4] = {1, -1, -1, 1};
        const int k = int(quarter) % 4;
        const int axis_u = kAxisU[k], su = kSignU[k], sv = kSignV[k];
        // u' = su * image coordinate: whole u' values are pixel boundaries.
        const float origin_u = float(su) * (axis_u == 0 ? ax : ay) + start;
        const int vb = int(std::floor(float(sv) * (axis_u == 0 ? ay : ax) + base + 0.5f));
        float pen = 0;
        char32_t prev = 0;
        for (char32_t cp : cps) {
            if (prev) pen += font_.kerning(prev, cp, size, t.bold);
            const float at = origin_u + pen;
            const float whole = std::floor(at);
            const Font::Glyph g = font_.glyph(cp, size, at - whole, t.bold);
            const int u0 = int(whole) + g.offset_x, v0 = vb + g.offset_y;
            draw_glyph_axis(g, su > 0 ? u0 : -u0 - 1, sv > 0 ? v0 : -v0 - 1, axis_u, su, sv,
                            t.color);
            pen += g.advance;
            prev = cp;
        }
        return;
    }

    // Any other angle: each image pixel centre is mapped back into the glyph bitmap.
    const float rad = turn * (std::numbers::pi_v<float> / 180);
    const float ux = std::cos(rad), uy = std::sin(rad);  // text direction
    const float vx = -uy, vy = ux;                       // "down" across the text
    float pen = 0;
    char32_t prev = 0;
    for (char32_t cp : cps) {
        if (prev) pen += font_.kerning(prev, cp, size, t.bold);
        const Font::Glyph g = font_.glyph(cp, size, 0, t.bold);
        const float left = start + pen + float(g.offset_x), top = base + float(g.offset_y);
        pen += g.advance;
        prev = cp;
        if (g.width == 0 || g.height == 0) continue;
        Box bounds{1e30f, 1e30f, -1e30f, -1e30f};
        for (float cu : {left, left + float(g.width)})
            for (float cv : {top, top + float(g.height)}) {
                const float x = ax + cu * ux + cv * vx, y = ay + cu * uy + cv * vy;
                bounds = {std::min(bounds.x0, x), std::min(bounds.y0, y), std::max(bounds.x1, x),
                          std::max(bounds.y1, y)};
            }
        const Span s = pixels_of(bounds);
        const auto texel = [&](int gx, int gy) -> float {
            if (gx < 0 || gy < 0 || gx >= g.width || gy >= g.height) return 0;
            return g.coverage[size_t(gy) * size_t(g.width) + size_t(gx)];
        };
        for (int y = s.y0; y < s.y1; ++y)
            for (int x = s.x0; x < s.x1; ++x) {
                const float dx = float(x) + 0.5f - ax, dy = float(y) + 0.5f - ay;
                const float gxf = dx * ux + dy * uy - left - 0.5f;
                const float gyf = dx * vx + dy * vy - top - 0.5f;
                const float fx0 = std::floor(gxf), fy0 = std::floor(gyf);
                if (fx0 < -1 || fy0 < -1 || fx0 >= float(g.width) || fy0 >= float(g.height))
                    continue;
                const int gx = int(fx0), gy = int(fy0);
                const float fx = gxf - fx0, fy = gyf - fy0;
                const float cov = (texel(gx, gy) * (1 - fx) + texel(gx + 1, gy) * fx) * (1 - fy) +
                                  (texel(gx, gy + 1) * (1 - fx) + texel(gx + 1, gy + 1) * fx) * fy;
                if (cov <= 0) continue;
                blend(pixel(x, y), t.color, alpha_of(t.color, cov / 255.0f * clip_weight(x, y)));
            }
    }
}

}  // namespace

Image rasterize(const Scene& scene, const Font& font, float scale) {
    if (!std::isfinite(scale) || !(scale > 0))
        throw Error("image scale " + std::to_string(scale) + ": expected a positive number");
    const double w = std::ceil(double(scene.width) * scale - 1e-6);
    const double h = std::ceil(double(scene.height) * scale - 1e-6);
    // Bounds that keep index arithmetic in range and refuse runaway allocations.
    constexpr double kMaxSide = 32768, kMaxPixels = double(1 << 28);
    if (!std::isfinite(w) || !std::isfinite(h) || w > kMaxSide || h > kMaxSide ||
        w * h > kMaxPixels) {
        char size[96];
        std::snprintf(size, sizeof size, "%.0f x %.0f", w, h);
        throw Error("image of " + std::string(size) +
                    " px is too large (expected at most 32768 px a side and 2^28 pixels)");
    }
    Image image;
    image.width = std::max(0, int(w));
    image.height = std::max(0, int(h));
    image.rgba.resize(size_t(image.width) * size_t(image.height) * 4);
    if (image.rgba.empty()) return image;
    const Color bg = scene.background;
    for (size_t i = 0; i < size_t(image.width); ++i) {
        image.rgba[4 * i] = bg.r, image.rgba[4 * i + 1] = bg.g;
        image.rgba[4 * i + 2] = bg.b, image.rgba[4 * i + 3] = bg.a;
    }
    const size_t row = size_t(image.width) * 4;
    for (size_t y = 1; y < size_t(image.height); ++y)
        std::memcpy(&image.rgba[y * row], image.rgba.data(), row);

    Canvas canvas(image, font, scale);
    for (const Item& item : scene.items) std::visit(canvas, item);
    return image;
}

namespace isa_scalar {
bool write_png(void (*write)(void*, void*, int), void* context, int width, int height,
               const uint8_t* rgba);
}
#if HEADMAP_VIZ_HAVE_ISA_X86
namespace isa_avx2 {
bool write_png(void (*write)(void*, void*, int), void* context, int width, int height,
               const uint8_t* rgba);
}
namespace isa_avx512 {
bool write_png(void (*write)(void*, void*, int), void* context, int width, int height,
               const uint8_t* rgba);
}
#endif

namespace {

using WritePng = bool (*)(void (*)(void*, void*, int), void*, int, int, const uint8_t*);

// The PNG encoder's build for this CPU (viz/isa/png_isa.cpp): the widest it has, or the one
// HEADMAP_CPU names (as the kernels read it; an unknown name is the kernels' error to give). The
// bytes are the same either way.
WritePng png_encoder() {
#if HEADMAP_VIZ_HAVE_ISA_X86
    static const WritePng chosen = [] {
        const char* env = std::getenv("HEADMAP_CPU");
        const std::string_view forced = env ? env : "";
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        // Built with -march=x86-64-v4 (CMake): AVX-512 F/VL/BW/DQ/CD and the AVX2-era
        // extensions every such CPU has (clang's __builtin_cpu_supports has no level names).
        const bool avx512 =
            avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("bmi2");
        if (avx512 && (forced.empty() || forced == "avx512")) return isa_avx512::write_png;
        if (avx2 && forced != "scalar") return isa_avx2::write_png;
        return isa_scalar::write_png;
    }();
    return chosen;
#else
    return isa_scalar::write_png;
#endif
}

}  // namespace

std::vector<uint8_t> encode_png(const Image& image) {
    if (image.width <= 0 || image.height <= 0 ||
        image.rgba.size() != size_t(image.width) * size_t(image.height) * 4)
        throw Error("cannot encode a " + std::to_string(image.width) + " x " +
                    std::to_string(image.height) + " image as PNG (expected a non-empty image)");
    std::vector<uint8_t> bytes;
    const auto append = [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<uint8_t>*>(context);
        const auto* begin = static_cast<const uint8_t*>(data);
        out->insert(out->end(), begin, begin + size);
    };
    if (!png_encoder()(append, &bytes, image.width, image.height, image.rgba.data()))
        throw Error("PNG encoding failed (out of memory?)");
    return bytes;
}

}  // namespace headmap::viz
